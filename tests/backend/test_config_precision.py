"""/api/config shows what ``auto`` precision picks on this host's CPU, and why."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contract.precision import INT8_GATE_PASSED, choose, cpu_flags, shown


def test_config_shows_the_hosts_precision_choice(client: TestClient) -> None:
    precision = client.get("/api/config").json()["precision"]
    flags = cpu_flags()
    assert precision["requested"] == "auto"
    assert precision["cpu_flags"] == shown(flags)
    assert precision["other_models"] == choose("auto", flags, None).__dict__
    assert set(precision["models"]) == set(INT8_GATE_PASSED)
    for model, choice in precision["models"].items():
        assert choice == choose("auto", flags, INT8_GATE_PASSED[model]).__dict__
