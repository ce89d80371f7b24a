"""A cancel during ``describe`` stops its running subprocess within 2 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from adapter.description import describe
from adapter.description.speech import Speech
from adapter.errors import JobCancelled
from contract import media, storage
from tests.fixtures.media import make_clip


def _running(marker: str) -> list[int]:
    """Pids of live (not zombie) processes whose command line contains ``marker``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            pids.append(int(proc.name))
    return pids


def test_cancel_stops_the_description_mux_within_two_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2, gop=None)
    output = tmp_path / "described-output.mp4"
    real_run = media.run

    def slow_mux(args: Sequence[media.Arg], **kwargs: object) -> media.Completed:
        # The description's final ffmpeg (the 30-minute one) reads the upload at 1/50 of real time.
        if "-filter_complex" in args:
            slow = ("-readrate", "0.02")
            args = [media.UserInput(a.path, slow) if isinstance(a, media.UserInput) else a for a in args]
        return real_run(args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(media, "run", slow_mux)
    stop = threading.Event()
    raised: list[BaseException] = []

    def target() -> None:
        try:
            describe(
                clip,
                output,
                lang="en",
                describer=lambda _frame: "A test pattern.",
                speaker=lambda _text, _lang: Speech(np.full(11025, 0.1, np.float32), 22050),
                should_stop=stop.is_set,
            )
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    deadline = time.monotonic() + 60
    while not _running(output.stem) and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(output.stem), f"the mux never ran: {raised}"
    stopped = time.monotonic()
    stop.set()
    thread.join(timeout=10)
    elapsed = time.monotonic() - stopped
    assert not thread.is_alive() and elapsed <= 2, elapsed
    assert len(raised) == 1 and isinstance(raised[0], JobCancelled)
    assert _running(output.stem) == []
    assert not output.exists() and storage.temporaries_of(output) == []
