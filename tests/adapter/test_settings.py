"""Adapter settings come from the environment with the documented names and defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapter.settings import AdapterSettings


def test_defaults_match_the_architecture(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AdapterSettings.model_fields:
        monkeypatch.delenv(name, raising=False)
    settings = AdapterSettings()
    assert settings.AMQP_URL == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert settings.triton_url == "127.0.0.1:8001"
    assert settings.ADAPTER_METRICS_PORT == 9108
    assert (settings.MAX_WIDTH, settings.MAX_HEIGHT, settings.MAX_DURATION_S) == (3840, 2160, 7200)
    assert settings.PROGRESS_INTERVAL_S == 1.0


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_ROOT", "/srv/vsr")
    monkeypatch.setenv("TRITON_URL", "  ")
    monkeypatch.setenv("MAX_WIDTH", "1920")
    monkeypatch.setenv("SHUTDOWN_GRACE_S", "0")
    settings = AdapterSettings()
    assert str(settings.STORAGE_ROOT) == "/srv/vsr"
    assert settings.triton_url is None
    assert settings.MAX_WIDTH == 1920
    assert settings.SHUTDOWN_GRACE_S == 0


@pytest.mark.parametrize(
    ("name", "value"), [("MAX_WIDTH", "0"), ("CANCEL_POLL_S", "-1"), ("MAX_HEIGHT", "x")]
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        AdapterSettings()


def test_retry_settings_default_to_the_contract_and_build_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapter.worker.queue import RetryPolicy
    from contract import limits, topology

    for name in AdapterSettings.model_fields:
        monkeypatch.delenv(name, raising=False)
    assert AdapterSettings().retry_policy() == RetryPolicy()
    assert RetryPolicy().delays == topology.RETRY_DELAYS_S
    assert max(topology.RETRY_DELAYS_S) == limits.RETRY_MAX_S, "the longest queue is the backoff's cap"
    monkeypatch.setenv("TASK_ATTEMPTS", "3")
    monkeypatch.setenv("INFRA_BUDGET_S", "60")
    policy = AdapterSettings().retry_policy()
    assert (policy.attempts, policy.infra_budget_s, policy.min_s) == (3, 60, limits.RETRY_MIN_S)
