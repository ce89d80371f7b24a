"""Schema migrations on SQLite and on a real PostgreSQL: fresh databases, adopted ones, replicas together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text

from backend.db import Base, Speed, alembic_config, main, make_engine, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(url)
    yield made
    made.dispose()


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _state(engine: Engine) -> tuple[str | None, list[object]]:
    """(stamped revision, differences between the database and the models)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        return context.get_current_revision(), compare_metadata(context, Base.metadata)


def test_one_line_of_revisions() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_fresh_database_matches_the_models(engine: Engine) -> None:
    migrate(engine)
    assert _state(engine) == (_head(), [])
    migrate(engine)  # a second start changes nothing
    assert _state(engine) == (_head(), [])


def test_database_from_before_migrations_is_adopted_with_its_rows(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(Speed).values(model="realesr-animevideov3-x4", fps=7.5))
    migrate(engine)
    assert _state(engine) == (_head(), [])
    with engine.connect() as connection:
        assert connection.execute(select(Speed.fps)).scalars().all() == [7.5]


def test_replicas_starting_together_migrate_once(engine: Engine) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            migrate(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _state(engine) == (_head(), [])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert {"jobs", "tasks", "speeds"} <= set(inspect(engine).get_table_names())


def test_revision_command_needs_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["revision"]) == 2
    assert "usage" in capsys.readouterr().err
