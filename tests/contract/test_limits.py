"""Limits, defaults and the model catalogue have one source: the services' settings start from contract/."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from adapter.limits import Limits
from adapter.settings import AdapterSettings
from adapter.worker.consumer import WorkerConfig
from backend.api.schemas import ModelOut
from backend.settings import Settings
from contract import limits, messages, models, sizing

SHARED = {
    "MAX_WIDTH": limits.MAX_WIDTH,
    "MAX_HEIGHT": limits.MAX_HEIGHT,
    "MAX_DURATION_S": limits.MAX_DURATION_S,
}
#: WorkerConfig field → the adapter setting it comes from.
WORKER_FIELDS = {
    "progress_interval_s": "PROGRESS_INTERVAL_S",
    "cancel_poll_s": "CANCEL_POLL_S",
    "shutdown_grace_s": "SHUTDOWN_GRACE_S",
    "heartbeat_s": "AMQP_HEARTBEAT_S",
    "reconnect_min_s": "RECONNECT_MIN_S",
    "reconnect_max_s": "RECONNECT_MAX_S",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting of either service comes from the test machine's environment."""
    for name in {*Settings.model_fields, *AdapterSettings.model_fields}:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_both_services_default_to_the_contract_limits(clean_env: pytest.MonkeyPatch) -> None:
    backend, adapter = Settings(), AdapterSettings()
    for name, value in SHARED.items():
        assert getattr(backend, name) == getattr(adapter, name) == value, name
    assert Limits() == adapter.job_limits()
    assert (Limits().max_width, Limits().max_height, Limits().max_duration_s) == tuple(SHARED.values())
    assert Limits().max_output == sizing.OUTPUT_BOX == (limits.MAX_OUTPUT_WIDTH, limits.MAX_OUTPUT_HEIGHT)
    assert Limits().probe_timeout_s == limits.PROBE_TIMEOUT_S


def test_adapter_limits_follow_its_settings(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MAX_WIDTH", "1920")
    clean_env.setenv("MAX_DURATION_S", "60")
    job = AdapterSettings().job_limits()
    assert (job.max_width, job.max_height, job.max_duration_s) == (1920, limits.MAX_HEIGHT, 60)


def test_worker_config_defaults_are_the_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    plain = WorkerConfig(amqp_url="amqp://x", storage_root=Path("/srv"))
    settings = AdapterSettings()
    for field, setting in WORKER_FIELDS.items():
        assert getattr(plain, field) == getattr(settings, setting), field
    built = WorkerConfig.from_settings(settings)
    assert dataclasses.replace(built, limits=None) == dataclasses.replace(
        plain, amqp_url=settings.AMQP_URL, storage_root=settings.STORAGE_ROOT
    )
    assert built.limits == settings.job_limits()


def test_worker_config_takes_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RECONNECT_MAX_S", "3")
    clean_env.setenv("SHUTDOWN_GRACE_S", "0")
    clean_env.setenv("MAX_HEIGHT", "720")
    config = WorkerConfig.from_settings(AdapterSettings())
    assert (config.reconnect_max_s, config.shutdown_grace_s) == (3, 0)
    assert config.limits is not None and config.limits.max_height == 720


def test_backend_settings_own_host_log_level_and_database_url(clean_env: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert (defaults.BACKEND_HOST, defaults.LOG_LEVEL) == ("0.0.0.0", "INFO")
    clean_env.setenv("BACKEND_HOST", "127.0.0.1")
    clean_env.setenv("LOG_LEVEL", "DEBUG")
    clean_env.setenv("DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert (settings.BACKEND_HOST, settings.LOG_LEVEL) == ("127.0.0.1", "DEBUG")
    assert settings.DATABASE_URL == "postgresql+psycopg://u@h/db"
    clean_env.setenv("DATABASE_URL", "sqlite:///x.db")
    assert Settings().DATABASE_URL == "sqlite:///x.db"


def test_adapter_settings_own_the_log_level(clean_env: pytest.MonkeyPatch) -> None:
    assert AdapterSettings().LOG_LEVEL == "INFO"
    clean_env.setenv("LOG_LEVEL", "WARNING")
    assert AdapterSettings().LOG_LEVEL == "WARNING"


def test_the_model_catalogue_is_one_list() -> None:
    assert messages.MODELS is models.MODELS and messages.DEFAULT_MODEL == models.DEFAULT_MODEL
    assert models.DEFAULT_MODEL in models.MODELS
    assert list(models.MODELS) == [m.id for m in models.CATALOGUE]
    assert all(models.BY_ID[m].scale == s for m, s in models.MODELS.items())
    # What /api/config lists is exactly the catalogue, in the API's own shape.
    listed = [ModelOut.model_validate(entry) for entry in models.config_models()]
    assert [(m.id, m.scale, m.title_ru, m.title_en) for m in listed] == [
        (m.id, m.scale, m.title("ru"), m.title("en")) for m in models.CATALOGUE
    ]
    assert all(m.title("ru") != m.title("en") for m in models.CATALOGUE)
    assert models.page_models() == {"models": models.config_models(), "default_model": models.DEFAULT_MODEL}
    assert models.CATALOGUE[0].id == models.DEFAULT_MODEL, "the page falls back to the first model"


def test_the_converter_builds_the_catalogue_models() -> None:
    """model_convertation is built into its own image without contract/, so it keeps a copy checked here."""
    catalog = pytest.importorskip("model_convertation.catalog")
    assert {name: spec.scale for name, spec in catalog.SERVED.items()} == models.SERVED
    assert catalog.DEFAULT_MODEL == models.DEFAULT_MODEL


def test_offered_sizes_are_allowed_sizes() -> None:
    assert sizing.page_sizes() == {"heights": [480, 720, 1080], "scales": [2, 4], "max_output": [7680, 4320]}
    assert set(sizing.OFFERED_SCALES) <= set(sizing.SCALES)
    assert all(limits.MIN_OUTPUT_HEIGHT <= h <= limits.MAX_OUTPUT_HEIGHT for h in sizing.OFFERED_HEIGHTS)
