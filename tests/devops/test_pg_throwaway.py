"""`make test` needs no hand-started PostgreSQL: devops/pg_throwaway.py starts a throw-away cluster from the
installed server when nothing answers at TEST_POSTGRES_URL, and removes it after."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

from devops import pg_throwaway
from devops.compose_env import render
from tests.fixtures.services import require

ROOT = Path(__file__).resolve().parents[2]


def _server_installed() -> bool:
    try:
        pg_throwaway.server_bindir()
    except SystemExit:
        return False
    return True


@pytest.mark.postgres
def test_a_throwaway_cluster_answers_then_is_gone() -> None:
    require(_server_installed(), "the PostgreSQL server package (apt-get install postgresql)")
    with pg_throwaway.throwaway_cluster("test") as url:
        assert url.startswith("postgresql://postgres@127.0.0.1:") and url.endswith("/test")
        with psycopg.connect(url) as connection:
            assert connection.execute("select 1").fetchone() == (1,)
    assert not pg_throwaway.answers(url)


@pytest.mark.postgres
def test_the_command_gets_a_cluster_when_nothing_answers(tmp_path: Path) -> None:
    require(_server_installed(), "the PostgreSQL server package (apt-get install postgresql)")
    seen = tmp_path / "url"
    probe = f"import os, psycopg; psycopg.connect(os.environ['TEST_POSTGRES_URL']).close(); " \
            f"open({str(seen)!r}, 'w').write(os.environ['TEST_POSTGRES_URL'])"  # fmt: skip
    nothing = f"postgresql://postgres@127.0.0.1:{pg_throwaway.free_port()}/test"
    monkey = pytest.MonkeyPatch()
    monkey.setenv("TEST_POSTGRES_URL", nothing)
    try:
        assert pg_throwaway.main(["--", sys.executable, "-c", probe]) == 0
    finally:
        monkey.undo()
    assert seen.read_text() != nothing and not pg_throwaway.answers(seen.read_text())


def test_compose_env_gets_fresh_secrets() -> None:
    example = (ROOT / ".env.example").read_text()
    first, second = render(example), render(example)
    lines = [line for line in first.splitlines() if "=" in line and not line.startswith("#")]
    values = dict(line.split("=", 1) for line in lines)
    for name in ("RABBITMQ_PASSWORD", "POSTGRES_PASSWORD", "SECRET_KEY", "OPS_TOKEN"):
        assert "change-me" not in values[name] and len(values[name]) >= 32, name
    assert first != second
