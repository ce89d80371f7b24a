"""Overload is not a fault (issue 26): call deadlines from size, batch and speed; overload vs outage vs fault.

Pure rules (adapter/inference/deadline.py, adapter/worker/queue.py) with fakes typed by their Protocols;
the real stack's proof is tests/chaos/test_overload.py.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from adapter.errors import (
    InferenceStuckError,
    InferenceUnavailableError,
    ModelOverloadedError,
    ModelUnavailableError,
)
from adapter.inference.deadline import (
    CEILING_S,
    CallDeadlines,
    Deadlined,
    DeadlineRule,
    Lanes,
    Readiness,
    SpeedMeter,
    Verdict,
    judge_failure,
)
from adapter.inference.upscalers import TiledUpscaler
from adapter.inference.watchdog import Watchdog
from adapter.limits import Limits
from adapter.video.pipeline import ANSWER_MARGIN, answer_timeout, deadlines_of
from adapter.worker.queue import Action, RetryPolicy, Tries, decide_failure
from contract import topology
from contract.catalogue import reason
from contract.messages import ProgressEvent, RetryEvent

JOB = "0123456789abcdef0123456789abcdef"
POLICY = RetryPolicy(attempts=5, min_s=2, max_s=256, infra_budget_s=1800)
NOW = 1_800_000_000.0
#: The issue's case: 640×272 frames at ×4 in batches of 8 on an AVX2-only CPU, 5.2 s a frame in-process.
FRAME = 640 * 272
BATCH = 8
SLOW_CPU_S_PER_MPX = 5.2 / (FRAME / 1e6)


class Ready:
    """The model answers its readiness check (a Readiness)."""

    def __init__(self, answer: bool = True) -> None:
        self.answer, self.looks = answer, 0

    def __call__(self) -> bool:
        self.looks += 1
        return self.answer


class Unreachable:
    """The readiness look itself fails (connection refused, deadline exceeded)."""

    def __call__(self) -> bool:
        raise ConnectionError("refused")


class Model:
    """An in-process model (an Upscaler) that takes ``s_per_frame`` a frame, or blocks while ``stuck``."""

    scale, max_batch, in_flight, device = 2, 8, 1, "cpu"

    def __init__(self, s_per_frame: float = 0.0) -> None:
        self.s_per_frame = s_per_frame
        self.stuck = threading.Event()

    def infer(self, batch: np.ndarray) -> np.ndarray:
        while self.stuck.is_set():
            time.sleep(0.01)
        time.sleep(self.s_per_frame * len(batch))
        return np.zeros((len(batch), batch.shape[1] * 2, batch.shape[2] * 2, 3), np.uint8)

    def close(self) -> None:
        self.stuck.clear()


# ---- overload, outage or fault --------------------------------------------------------------------------


def test_a_call_that_timed_out_while_the_model_is_ready_is_overload() -> None:
    ready: Readiness = Ready(True)
    assert judge_failure("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", ready) is Verdict.OVERLOADED


def test_a_call_that_timed_out_while_the_model_is_not_ready_is_an_outage() -> None:
    assert judge_failure("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", Ready(False)) is Verdict.DOWN
    assert judge_failure("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", Unreachable()) is Verdict.DOWN


def test_an_unreachable_server_is_an_outage_without_a_second_look() -> None:
    look = Ready(True)
    assert judge_failure("StatusCode.UNAVAILABLE", "failed to connect to all addresses", look) is Verdict.DOWN
    assert look.looks == 0


def test_a_request_triton_dropped_from_its_queue_is_overload() -> None:
    # The queue policy's REJECT answers UNAVAILABLE, but the server answered: it is up, only behind.
    look = Ready(False)
    verdict = judge_failure("StatusCode.UNAVAILABLE", "Request timeout expired", look)
    assert verdict is Verdict.OVERLOADED and look.looks == 0


def test_any_other_failure_with_the_model_ready_is_a_fault_of_the_call() -> None:
    assert judge_failure("StatusCode.INTERNAL", "onnx runtime error", Ready(True)) is Verdict.FAILED
    assert judge_failure("StatusCode.INVALID_ARGUMENT", "bad shape", Ready(True)) is Verdict.FAILED


def test_overload_is_an_outage_for_the_retry_rules_and_an_attempt_is_not() -> None:
    assert issubclass(ModelOverloadedError, ModelUnavailableError)
    assert not issubclass(InferenceUnavailableError, ModelUnavailableError)


# ---- the delivery rule ----------------------------------------------------------------------------------


def test_overload_retries_without_an_attempt_and_keeps_the_worker_consuming() -> None:
    behind = ModelOverloadedError(reason("job.model_overloaded"))
    tries = Tries(1, retries=0)
    decision = decide_failure(JOB, behind, tries, POLICY, NOW)
    assert decision.action is Action.RETRY and decision.outcome == "overloaded"
    assert not decision.pause, "the model is ready: the worker keeps taking tasks"
    assert decision.headers[topology.ATTEMPT_HEADER] == 1, "no attempt used"
    event = decision.event
    assert isinstance(event, RetryEvent) and event.infra and event.attempt == 1
    assert event.code == "job.model_overloaded" and event.run == 2
    # Even on the last attempt, overload does not fail the job...
    assert decide_failure(JOB, behind, Tries(POLICY.attempts), POLICY, NOW).action is Action.RETRY
    # ...until the infrastructure budget is spent.
    spent = Tries(1, retries=30, first_failure=int(NOW - POLICY.infra_budget_s))
    gave_up = decide_failure(JOB, behind, spent, POLICY, NOW)
    assert gave_up.action is Action.DEAD_LETTER and not gave_up.pause


def test_a_fault_of_the_call_uses_an_attempt() -> None:
    failed = InferenceUnavailableError(reason("job.triton_call_failed", call="inference", detail="boom"))
    decision = decide_failure(JOB, failed, Tries(1), POLICY, NOW)
    assert decision.action is Action.RETRY and decision.headers[topology.ATTEMPT_HEADER] == 2
    assert isinstance(decision.event, RetryEvent) and not decision.event.infra and decision.event.run == 3


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (Tries(1, 0), Tries(2, 1)),  # a retry that used an attempt
        (Tries(1, 0), Tries(1, 1)),  # a wait for the model server (no attempt)
        (Tries(1, 0), Tries(2, 0)),  # a crash redelivery (the delivery count adds an attempt)
        (Tries(3, 4), Tries(3, 5)),
    ],
)
def test_every_new_delivery_is_a_newer_run(before: Tries, after: Tries) -> None:
    assert after.run > before.run


def test_progress_and_retry_events_name_their_run() -> None:
    event = ProgressEvent(job_id=JOB, frames_done=1, frames_total=4, fps=1.0, run=2, attempt=1, attempts=5)
    assert (event.run, event.attempt, event.attempts) == (2, 1, 5)
    assert ProgressEvent(job_id=JOB, frames_done=1, frames_total=4, fps=1.0).run is None, "older events"


# ---- the deadline of a call -----------------------------------------------------------------------------


def test_the_deadline_grows_with_frame_size_batch_and_measured_speed() -> None:
    rule = DeadlineRule(floor_s=60)
    small, large = rule.deadline_s(64 * 64, 1.0), rule.deadline_s(FRAME, 1.0)
    assert small == 60 and large == 60, "small calls keep the configured floor"
    one = rule.deadline_s(FRAME, SLOW_CPU_S_PER_MPX)
    eight = rule.deadline_s(BATCH * FRAME, SLOW_CPU_S_PER_MPX)
    assert eight > one and eight == pytest.approx(rule.margin * BATCH * 5.2)
    assert rule.deadline_s(BATCH * FRAME, 2 * SLOW_CPU_S_PER_MPX) > eight, "slower model, longer deadline"
    assert rule.deadline_s(10**9, 10**3) == CEILING_S, "never beyond the ceiling"


def test_a_batch_of_eight_large_frames_on_a_slow_cpu_is_not_a_timeout() -> None:
    # The issue: a batch of 8 at 5.2 s a frame, behind another batch, needs about 80 s; 60 s was fixed.
    needed = 2 * BATCH * 5.2
    measured = CallDeadlines(DeadlineRule(floor_s=60), in_flight=2)
    measured.meter.answered(BATCH * FRAME, needed)  # timed send to answer: the wait behind one included
    assert measured.deadline_s(BATCH * FRAME) > needed
    unmeasured = CallDeadlines(DeadlineRule(floor_s=60), in_flight=2)
    assert unmeasured.deadline_s(BATCH * FRAME) > needed, "the first call, before any answer, too"


def test_the_speed_follows_answers_and_a_call_given_up_on_raises_it_at_once() -> None:
    meter = SpeedMeter(smoothing=0.5)
    assert meter.s_per_mpx is None
    meter.answered(1_000_000, 2.0)
    assert meter.s_per_mpx == 2.0
    meter.answered(1_000_000, 4.0)
    assert meter.s_per_mpx == 3.0
    meter.gave_up(1_000_000, 10.0)
    assert meter.s_per_mpx == 10.0, "at least as slow as the call that had no answer"
    meter.gave_up(1_000_000, 1.0)
    assert meter.s_per_mpx == 10.0, "a short give-up never makes it faster"


def test_fewer_calls_in_flight_while_the_server_is_behind() -> None:
    lanes = Lanes(2)
    lanes.enter()
    lanes.behind()
    entered = threading.Event()

    def second_call() -> None:
        lanes.enter()
        entered.set()

    waiter = threading.Thread(target=second_call, daemon=True)
    waiter.start()
    assert not entered.wait(0.2), "one call at a time while behind"
    lanes.leave(in_time=False)
    assert entered.wait(5)
    lanes.leave(in_time=True)
    assert lanes.open == 2, "answers in time widen it again"


def test_the_answer_backstop_follows_the_upscalers_own_deadline() -> None:
    limits = Limits(inference_timeout_s=10)
    plain = TiledUpscaler(Model(), tile=512, overlap=16)
    assert deadlines_of(plain) is None
    assert answer_timeout(plain, (64, 48), limits) == 10 * (1 + ANSWER_MARGIN)
    watched = Watchdog(Model(), timeout_s=10)
    try:
        tiled = TiledUpscaler(watched, tile=512, overlap=16)
        carrier = deadlines_of(tiled)
        assert isinstance(carrier, Deadlined) and carrier is watched
        quick = answer_timeout(tiled, (64, 48), limits)
        watched.deadlines.meter.gave_up(watched.max_batch * 64 * 48, 200.0)
        assert answer_timeout(tiled, (64, 48), limits) > quick, "asked again: a slower model waits longer"
    finally:
        watched.close()


def test_the_watchdog_waits_longer_for_a_model_measured_slow_and_still_ends_a_stuck_call() -> None:
    model = Model(s_per_frame=0.05)
    watchdog = Watchdog(model, timeout_s=0.3)
    try:
        batch = np.zeros((8, 200, 200, 3), np.uint8)
        # 8 frames × 0.05 s = 0.4 s: past the 0.3 s floor, within the deadline the prior speed gives.
        assert watchdog.infer(batch).shape == (8, 400, 400, 3)
        assert watchdog.deadlines.meter.s_per_mpx is not None
        model.stuck.set()
        started = time.monotonic()
        with pytest.raises(InferenceStuckError):
            watchdog.infer(batch)
        assert time.monotonic() - started < 30, "a stuck call still ends"
    finally:
        model.stuck.clear()
        watchdog.close()
