"""Schema migrations on SQLite and on a real PostgreSQL: fresh databases, adopted ones, replicas together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text

from backend.jobs.db import (
    BASELINE,
    Base,
    Job,
    Speed,
    alembic_config,
    main,
    make_engine,
    make_sessions,
    migrate,
)
from backend.jobs.store import JobStore
from contract.catalogue import reason
from contract.messages import FailedEvent
from tests.fixtures.backend import DATABASES


@pytest.fixture(params=DATABASES)
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


def _schema_before_migrations(engine: Engine) -> None:
    """The tables ``create_all`` made before migrations existed (the baseline), unstamped."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))


def test_database_from_before_migrations_is_adopted_with_its_rows(engine: Engine) -> None:
    _schema_before_migrations(engine)
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


def test_old_failed_rows_keep_their_text_and_new_ones_store_code_and_parameters(engine: Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), BASELINE)
        connection.execute(
            text(
                "INSERT INTO jobs (id, filename, status, published, model, upscale, input_key,"
                " size_bytes, input_width, input_height, input_duration_s, input_fps, input_frames,"
                " progress, frames_done, frames_total, error, created_at, updated_at) VALUES"
                " ('a', 'x.mp4', 'failed', true, 'm', true, 'k', 0, 1, 1, 1.0, 25.0, 1, 0.0, 0, 1,"
                " 'old reason', :now, :now)"
            ),
            {"now": "2026-01-01T00:00:00+00:00"},
        )
    migrate(engine)
    store = JobStore(make_sessions(engine))
    old = store.get("a")
    assert old is not None and (old.error, old.error_code, old.error_params) == ("old reason", None, None)
    new = Job(
        id="b" * 32, filename="y.mp4", status="running", published=True, model="m", input_key="k",
        input_width=1, input_height=1, input_duration_s=1.0, input_fps=25.0,
    )
    store.add(new)
    store.apply_event(FailedEvent.from_reason("b" * 32, reason("job.gave_up", attempts=6)))
    failed = store.get("b" * 32)
    assert failed is not None and (failed.error_code, failed.error_params) == ("job.gave_up", {"attempts": 6})


def test_jobs_from_before_owners_belong_to_legacy_which_operators_see(engine: Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO jobs (id, filename, status, published, model, upscale, input_key,"
                " size_bytes, input_width, input_height, input_duration_s, input_fps, input_frames,"
                " progress, frames_done, frames_total, created_at, updated_at) VALUES"
                " (:id, 'old.mp4', 'done', true, 'm', true, 'k', 0, 1, 1, 1.0, 25.0, 1, 1.0, 1, 1,"
                " :now, :now)"
            ),
            {"id": "c" * 32, "now": "2026-01-01T00:00:00+00:00"},
        )
    migrate(engine)
    assert _state(engine) == (_head(), [])
    store = JobStore(make_sessions(engine))
    old = store.get("c" * 32)
    assert old is not None and (old.owner, old.filename, old.status) == ("legacy", "old.mp4", "done")
    assert [job.id for job in store.newest()] == ["c" * 32], "an operator (owner=None) sees the legacy job"
    assert store.newest(owner="anon-someone") == [], "an ordinary owner does not"


def test_revision_command_needs_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["revision"]) == 2
    assert "usage" in capsys.readouterr().err
