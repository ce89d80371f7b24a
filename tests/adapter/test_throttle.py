"""The test-only throttle: a floor on each frame's time over all threads, nothing when it is 0."""

from __future__ import annotations

import functools
import pickle
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np

from adapter.inference.throttle import Throttled, ThrottledUpscaler, block_flag


class _Double:
    """Nearest-neighbour ×2, instantly."""

    scale, max_batch, in_flight, device = 2, 4, 3, "cpu"
    closed = False

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return batch.repeat(2, axis=1).repeat(2, axis=2)

    def close(self) -> None:
        self.closed = True


def _make(model: str, *, flavour: str) -> _Double:
    assert (model, flavour) == ("m", "x")
    return _Double()


def test_frames_cost_at_least_the_delay_across_threads() -> None:
    throttled = ThrottledUpscaler(_Double(), frame_delay_s=0.02)
    batch = np.zeros((4, 3, 5, 3), np.uint8)
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        outputs = list(pool.map(lambda _: throttled.infer(batch), range(3)))
    # 3 calls × 4 frames × 20 ms, in turn: a lower bound, whatever the host's speed.
    assert time.monotonic() - started >= 0.24
    assert all(out.shape == (4, 6, 10, 3) for out in outputs)
    assert (throttled.scale, throttled.max_batch, throttled.in_flight, throttled.device) == (2, 4, 3, "cpu")
    throttled.close()
    assert isinstance(throttled.inner, _Double) and throttled.inner.closed


def test_factory_wraps_only_with_a_delay_and_pickles() -> None:
    factory = functools.partial(_make, flavour="x")
    assert type(Throttled(factory, 0)("m")) is _Double
    slow = pickle.loads(pickle.dumps(Throttled(factory, 5)))
    made = slow("m")
    assert isinstance(made, ThrottledUpscaler) and made.frame_delay_s == 0.005


def test_calls_wait_while_the_block_flag_exists(tmp_path: Path) -> None:
    flag = block_flag(tmp_path)
    flag.touch()
    throttled = ThrottledUpscaler(_Double(), frame_delay_s=0.001, blocked_by=flag)
    with ThreadPoolExecutor(2) as pool:
        answers = [pool.submit(throttled.infer, np.zeros((1, 2, 2, 3), np.uint8)) for _ in range(2)]
        done, _ = wait(answers, timeout=0.5)
        assert not done, "a call answered while the switch was on"
        flag.unlink()
        assert all(answer.result(timeout=10).shape == (1, 4, 4, 3) for answer in answers)
    made = Throttled(functools.partial(_make, flavour="x"), 5, flag)("m")
    assert isinstance(made, ThrottledUpscaler) and made.blocked_by == flag
