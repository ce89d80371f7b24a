"""Shared test policy: service-backed tests fail (never skip) when CI is set."""

from __future__ import annotations

import os

import pytest

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing, but fail in CI where every service must be present."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


# Fixture modules, each owned by the part it serves.
pytest_plugins = ["tests.fixtures.media", "tests.fixtures.triton", "tests.fixtures.stack"]
