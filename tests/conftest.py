"""Shared test policy: markers CI selects by, xdist groups for shared stacks, durations kept in a file.

Service-backed tests fail (never skip) when CI is set: tests/fixtures/services.py's ``require``.
"""

from __future__ import annotations

import warnings

import pytest

from tests.fixtures.markers import CHECKED, Checked, missing_markers, xdist_group
from tests.fixtures.services import IN_CI

# Fixture modules, each owned by the part it serves.
pytest_plugins = [
    "tests.fixtures.media",
    "tests.fixtures.triton",
    "tests.fixtures.stack",
    "tests.fixtures.e2e",
    "tests.fixtures.database",
    "tests.fixtures.durations",
    "tests.fixtures.groups",
    "tests.fixtures.compose",
]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's loadgroup reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the tests of one shared session fixture on one xdist worker; check the markers.

    The marker check fails the run in CI (warns locally) when a service-backed or stack-starting test
    lacks its marker.
    """
    for item in items:
        group = xdist_group(item)  # type: ignore[arg-type]
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
    unmarked = [
        f"{item.nodeid}: add {', '.join(sorted(missing))}"
        for item in items
        if (missing := missing_markers(item))  # type: ignore[arg-type]
    ]
    config.stash[CHECKED] = Checked({item.nodeid.split("::")[0] for item in items}, unmarked)
    if not unmarked:
        return
    message = "service-backed (or whole-stack) tests without their marker:\n  " + "\n  ".join(unmarked)
    if IN_CI:
        raise pytest.UsageError(message)
    warnings.warn(message, pytest.PytestWarning, stacklevel=1)
