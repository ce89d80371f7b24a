"""No wait without a deadline: a stuck model fails the job as transient and never keeps the process alive."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapter import cli
from adapter.errors import InferenceStuckError, TransientJobError
from adapter.inference.upscalers import LocalUpscaler, TiledUpscaler, Watchdog
from adapter.inference.watchdog import ModelPool
from adapter.limits import Limits
from adapter.video.pipeline import answer_timeout, run
from contract.catalogue import reason
from contract.messages import JobOptions
from tests.fixtures.media import ClipFactory

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 1.0


class _Stuck:
    """A model whose calls block until released (``stuck_calls`` of them; later calls answer)."""

    scale, max_batch, in_flight, device = 1, 2, 2, "cpu"

    def __init__(self, stuck_calls: int = 10**9) -> None:
        self.release = threading.Event()
        self._stuck_calls = stuck_calls
        self.calls = 0
        #: When the first call came in (the deadline runs from there, not from the test's start).
        self.first_call_at: float | None = None

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.first_call_at is None:
            self.first_call_at = time.monotonic()
        if self.calls <= self._stuck_calls:
            self.release.wait()
        return batch.copy()

    def close(self) -> None:
        self.release.set()


@pytest.fixture
def stuck() -> Iterator[_Stuck]:
    model = _Stuck()
    yield model
    model.release.set()  # let the abandoned threads end with the test


def test_a_stuck_model_fails_the_run_as_transient_within_the_deadline(
    clip: ClipFactory, stuck: _Stuck, tmp_path: Path
) -> None:
    source = clip("stuck.mp4", seconds=1, audio_tracks=0)
    with pytest.raises(InferenceStuckError) as caught:
        run(
            source,
            tmp_path / "out.mp4",
            JobOptions(scale=1),
            stuck,
            limits=Limits(inference_timeout_s=DEADLINE_S),
        )
    # Timed from the stuck call, not from the test's start: decoding and ffmpeg's start-up take longer on a
    # loaded host, the deadline does not.
    assert stuck.first_call_at is not None
    assert time.monotonic() - stuck.first_call_at < 3 * DEADLINE_S
    assert isinstance(caught.value, TransientJobError)
    assert caught.value.reason == reason("job.stuck")
    assert caught.value.reason.text("ru") == "Обработка зависла, пробуем снова."
    assert not (tmp_path / "out.mp4").exists()


def test_the_watchdog_abandons_a_stuck_call_and_keeps_serving() -> None:
    inner = _Stuck(stuck_calls=1)
    watched = Watchdog(inner, timeout_s=0.3)
    batch = np.zeros((1, 4, 4, 3), np.uint8)
    started = time.monotonic()
    with pytest.raises(InferenceStuckError):
        watched.infer(batch)
    assert 0.3 <= time.monotonic() - started < 0.9
    assert watched.abandoned == 1
    # A fresh thread took the stuck one's place: the next call is answered.
    assert watched.infer(batch).shape == batch.shape
    inner.release.set()
    watched.close()


def test_a_stuck_model_never_keeps_the_process_alive(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import threading, numpy as np
        from adapter.inference.upscalers import Watchdog
        from adapter.inference.watchdog import ModelPool

        class Stuck:
            scale, max_batch, in_flight, device = 1, 1, 2, "cpu"
            def infer(self, batch):
                threading.Event().wait()
            def close(self):
                pass

        pool = ModelPool(Watchdog(Stuck(), timeout_s=0.2), 2)
        future = pool.submit(np.zeros((1, 2, 2, 3), np.uint8))
        print(type(future.exception(timeout=5)).__name__)
        pool.shutdown()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "InferenceStuckError"


def test_the_model_threads_start_before_the_first_frame() -> None:
    # A pool that starts its threads on submit leaves the decode thread waiting for each to come up
    # (seen in the hang's stack dump); this one starts them all at once, as daemons.
    model = _Stuck(stuck_calls=0)
    before = threading.active_count()
    pool = ModelPool(model, 3)
    started = threading.active_count()
    futures = [pool.submit(np.zeros((1, 2, 2, 3), np.uint8)) for _ in range(6)]
    assert [f.result(timeout=5).shape for f in futures] == [(1, 2, 2, 3)] * 6
    assert started - before == 3 and threading.active_count() == started
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("infer-"))
    pool.shutdown()


def test_the_answer_deadline_covers_every_tile_of_a_batch() -> None:
    tiled = TiledUpscaler(_Stuck(), tile=64, overlap=8)
    limits = Limits(inference_timeout_s=10)
    assert answer_timeout(tiled, (32, 32), limits) == 15  # no tiling: one call
    # 200x100 with 48-pixel tile centres: 5x3 tiles a frame, 2 frames a batch, 2 tiles a call.
    assert answer_timeout(tiled, (200, 100), limits) == 10 * (15 + 0.5)


def test_the_cli_exits_non_zero_with_one_line(
    clip: ClipFactory,
    stuck: _Stuck,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made: list[float] = []

    def make(
        model: str,
        triton_url: str | None,
        models_dir: Path,
        timeout_s: float = 60,
        *,
        backend: str = "auto",
        device: str | None = None,
        precision: str = "auto",
    ) -> _Stuck:
        made.append(timeout_s)
        return stuck

    monkeypatch.setattr(cli, "make_upscaler", make)
    source = clip("stuck.mp4", seconds=1, audio_tracks=0)
    started = time.monotonic()
    code = cli.main([str(source), "-o", str(tmp_path / "out.mp4"), "--timeout", str(DEADLINE_S), "--quiet"])
    assert time.monotonic() - started < 10 * DEADLINE_S
    assert code == 1 and made == [DEADLINE_S]
    assert capsys.readouterr().err.strip() == "error: " + reason("job.stuck").text("en")


def test_a_frozen_main_thread_still_ends_the_cli() -> None:
    # The backstop for a native deadlock that holds the GIL: faulthandler's own thread needs none.
    script = textwrap.dedent(
        """
        import time
        from adapter.cli import Backstop
        from adapter.video.stages import Progress

        Backstop(0.5, lambda progress: None)(Progress(1, 10, 1.0, None))
        time.sleep(30)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and time.monotonic() - started < 20
    assert "Timeout" in done.stderr and "most recent call first" in done.stderr


def test_the_backstop_is_disarmed_once_every_frame_is_in() -> None:
    script = textwrap.dedent(
        """
        import time
        from adapter.cli import Backstop
        from adapter.video.stages import Progress

        backstop = Backstop(0.5, lambda progress: None)
        backstop(Progress(1, 10, 1.0, None))
        backstop(Progress(10, 10, 1.0, None))
        time.sleep(1.5)
        print("alive")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "alive", done.stderr


class _Recording:
    """An OpenVINO request proxy that records how many threads are in its GIL-holding calls at once."""

    def __init__(self, inner: Any, seen: dict[str, int], lock: threading.Lock) -> None:
        self._inner, self._seen, self._lock = inner, seen, lock

    def _enter(self, kind: str, delta: int) -> None:
        with self._lock:
            self._seen[f"{kind}_now"] += delta
            self._seen[f"{kind}_most"] = max(self._seen[f"{kind}_most"], self._seen[f"{kind}_now"])

    def _tensor_call(self, name: str, *args: Any) -> Any:
        self._enter("api", 1)
        try:
            time.sleep(0.02)  # widen the window two unserialized threads would meet in
            return getattr(self._inner, name)(*args)
        finally:
            self._enter("api", -1)

    def set_input_tensor(self, tensor: Any) -> None:
        self._tensor_call("set_input_tensor", tensor)

    def get_output_tensor(self, index: int) -> Any:
        return self._tensor_call("get_output_tensor", index)

    def infer(self) -> None:
        self._enter("infer", 1)
        try:
            time.sleep(0.05)
            self._inner.infer()
        finally:
            self._enter("infer", -1)


def test_openvino_tensor_calls_are_made_one_thread_at_a_time(models_dir: Path) -> None:
    # The soak's hang (bench/soak.py, 2 in 40 runs): both inference threads inside OpenVINO's
    # get_tensor, every other thread waiting for the GIL. The GIL-holding calls are serialized now;
    # the inference itself still overlaps.
    model = LocalUpscaler("realesr-animevideov3-x2", models_dir, runtime="openvino")
    seen: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    compiled = model._compiled

    class _Compiled:
        def create_infer_request(self) -> _Recording:
            return _Recording(compiled.create_infer_request(), seen, lock)

    model._compiled = _Compiled()
    batch = np.zeros((1, 8, 8, 3), np.uint8)
    threads = [threading.Thread(target=lambda: [model.infer(batch) for _ in range(5)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen["api_most"] == 1
    assert seen["infer_most"] >= 2


def test_closing_the_watchdog_ends_its_idle_threads_before_the_model() -> None:
    # Idle threads left holding OpenVINO requests at interpreter exit aborted finished runs (soak).
    inner = _Stuck(stuck_calls=0)
    watched = Watchdog(inner, timeout_s=5)
    watched.infer(np.zeros((1, 2, 2, 3), np.uint8))
    threads = list(watched._pool._threads)
    watched.close()
    assert threads and not any(t.is_alive() for t in threads)
