"""A model server that is not there: readiness says so quickly, and a job's error is ModelUnavailableError."""

from __future__ import annotations

import time

import pytest

from adapter.errors import ModelUnavailableError
from adapter.inference.upscalers import TritonUpscaler
from adapter.worker.health import AlwaysReady, TritonHealth
from contract.messages import DEFAULT_MODEL
from devops.readiness import free_port


def test_in_process_models_are_always_ready() -> None:
    assert AlwaysReady().ready()


def test_triton_health_is_false_fast_when_nothing_listens() -> None:
    health = TritonHealth(f"127.0.0.1:{free_port()}", DEFAULT_MODEL, timeout_s=1)
    started = time.monotonic()
    assert not health.ready() and not health.ready(), "each look starts afresh and fails again"
    assert time.monotonic() - started < 10


def test_unreachable_triton_is_a_model_outage_not_an_attempt() -> None:
    url = f"127.0.0.1:{free_port()}"
    with pytest.raises(ModelUnavailableError) as info:
        TritonUpscaler(DEFAULT_MODEL, url, timeout_s=2)
    assert info.value.code == "job.triton_call_failed"
