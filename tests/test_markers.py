"""Every service-backed test carries its service's marker, since CI selects tests by marker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.markers import CHECKED, missing_markers, xdist_group
from tests.fixtures.services import private_vhost

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class _Mark:
    name: str


@dataclass
class _Params:
    params: dict[str, object]


@dataclass
class _Item:
    """Just enough of a pytest item for the check."""

    fixturenames: list[str]
    marks: list[str] = field(default_factory=list)
    params: dict[str, object] | None = None
    nodeid: str = "tests/x.py::test_x"

    def __post_init__(self) -> None:
        if self.params is not None:
            self.callspec = _Params(self.params)

    def iter_markers(self) -> Iterator[_Mark]:
        return iter(_Mark(name) for name in self.marks)


def _uses_a_vhost() -> None:
    with private_vhost():
        pass


def test_a_fixture_of_a_service_needs_its_markers() -> None:
    assert missing_markers(_Item(["stack", "tmp_path"])) == {"rabbitmq", "triton", "slow"}
    assert missing_markers(_Item(["stack"], marks=["rabbitmq", "triton"])) == {"slow"}
    assert missing_markers(_Item(["stack"], marks=["rabbitmq", "triton", "slow"])) == set()
    assert missing_markers(_Item(["open_tab"], marks=["rabbitmq"])) == {"browser", "slow"}
    assert missing_markers(_Item(["tmp_path"])) == set()


def test_a_postgresql_parameter_needs_the_postgres_marker() -> None:
    assert missing_markers(_Item(["database_url"], params={"database_url": "postgresql"})) == {"postgres"}
    assert missing_markers(_Item(["database_url"], params={"database_url": "sqlite"})) == set()


def test_a_service_call_in_the_test_body_needs_its_marker() -> None:
    item = _Item(["tmp_path"])
    item.function = _uses_a_vhost  # type: ignore[attr-defined]
    assert missing_markers(item) == {"rabbitmq"}


def _starts_make_up() -> None:
    argv = ["python", "-m", "devops.local", "up"]
    del argv


def _enters_a_stack(config: object) -> None:
    with Stack(config):  # type: ignore[name-defined]  # noqa: F821  (read as source, never run)
        pass


def test_a_test_that_starts_a_whole_stack_needs_slow() -> None:
    for starts in (_starts_make_up, _enters_a_stack):
        item = _Item(["tmp_path"])
        item.function = starts  # type: ignore[attr-defined]
        assert missing_markers(item) == {"slow"}, starts.__name__
        item.marks = ["slow"]
        assert missing_markers(item) == set()


def test_the_whole_suite_is_marked(request: pytest.FixtureRequest) -> None:
    files = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("test_*.py")}
    checked = request.config.stash.get(CHECKED, None)
    if checked is not None and files <= checked.files:
        # This run collected every test file: its own collection checked them all (make test, test-fast).
        assert checked.unmarked == [], checked.unmarked
        return
    # A partial run: collect the whole suite. CI=1 turns a missing marker into a collection error.
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=ROOT, env={**os.environ, "CI": "1"}, capture_output=True, text=True, timeout=300,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]


def test_tests_of_one_heavy_session_fixture_share_an_xdist_group() -> None:
    assert xdist_group(_Item(["api", "stack", "tmp_path"])) == "stack"
    chaos = _Item(["api", "stack"], nodeid="tests/chaos/test_x.py::test_x")
    assert xdist_group(chaos) == "stack-chaos", "the chaos tests share a stack of their own"
    assert xdist_group(_Item(["triton_url", "triton_server"])) == "triton"
    assert xdist_group(_Item(["tmp_path"])) is None


def test_a_group_runs_on_one_xdist_worker(tmp_path: Path) -> None:
    # pytest 9 lost pytest-xdist's group rename; tests/fixtures/groups.py restores it.
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.fixtures.groups"]\n')
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.xdist_group('one')\n"
        "@pytest.mark.parametrize('i', range(6))\n"
        "def test_grouped(i):\n    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider",
         str(tmp_path)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    passed = [line.split()[0] for line in done.stdout.splitlines() if "PASSED" in line and "@one" in line]
    assert len(passed) == 6 and len(set(passed)) == 1, done.stdout[-3000:]
