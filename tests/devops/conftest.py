"""Shared helpers for deployment checks: parsed YAML and the settings fields they must match."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.fixtures.devops import DEVOPS, settings_fields


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


#END
