"""Jobs database: the SQLAlchemy model, the engine/session factory (SQLite or PostgreSQL) and migrations.

The schema is versioned by Alembic (``backend/jobs/migrations``); ``migrate`` brings any database to the
newest
revision at start-up. A new column or table needs a new revision there
(``python -m backend.jobs.db revision "what changed"``), checked by ``tests/backend/test_migrations.py``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from backend.settings import normalise_database_url


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the backend's tables."""


class Job(Base):
    """One job (upscaling and/or audio description): what was uploaded, what was asked for, how far it got."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Who may see the job (``backend.api.identity``): an anonymous ``anon-...`` owner or a token's ``sub``;
    #: rows from before owners exist belong to ``legacy``, which only operators see.
    owner: Mapped[str] = mapped_column(String(128), default="legacy", server_default="legacy", index=True)
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    #: False until RabbitMQ confirmed the task message (the outbox publishes it).
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: When the whole-video message was confirmed: one turn of the owner in the fair queue
    #: (backend.dispatch.fairness).
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    model: Mapped[str] = mapped_column(String(64))
    scale: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: False for a job that only adds an audio description.
    upscale: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Language of the audio description (``ru``/``en``), or None for none.
    describe: Mapped[str | None] = mapped_column(String(8), nullable=True)
    #: How much the description says (``brief``/``normal``/``detailed``; ``normal`` without a description).
    description_density: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    input_key: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    input_width: Mapped[int] = mapped_column(Integer)
    input_height: Mapped[int] = mapped_column(Integer)
    input_duration_s: Mapped[float] = mapped_column(Float)
    input_fps: Mapped[float] = mapped_column(Float)
    input_frames: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    frames_total: Mapped[int] = mapped_column(Integer, default=0)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    eta_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: English text of the last failure (kept for logs and for rows from before codes).
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Catalogue code of that failure (``contract.catalogue``) and its parameters, for the page to translate.
    error_code: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_params: Mapped[dict[str, int | float | str] | None] = mapped_column(JSON, nullable=True)
    output_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    vtt_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    preview_before_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    preview_after_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: The original's playable «before» proxy (``contract.playable``), when the adapter wrote one.
    source_proxy_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    output_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The upload's deinterlace option (``contract.interlace``); rows from before it were never deinterlaced.
    deinterlace: Mapped[str] = mapped_column(String(8), default="auto", server_default="off")
    #: The upload's region inference option (``off``/``auto``, docs/pipeline.md); older rows ran ``off``.
    regions: Mapped[str] = mapped_column(String(8), default="off", server_default="off")
    #: Share of the frames' pixels the model ran on (done events; frames-weighted over segments).
    inferred_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Pictures lost to damage and replaced by the last good one (done events; summed over segments).
    damaged_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: What transparent pixels of an animated image lie on (``#rrggbb``) where the output has no alpha.
    background: Mapped[str] = mapped_column(String(7), default="#000000", server_default="#000000")
    #: HDR input kept HDR (``keep``) or tone-mapped to SDR (``sdr``); older rows kept it.
    hdr: Mapped[str] = mapped_column(String(4), default="keep", server_default="keep")
    #: The estimate of the job's processing seconds on this server, made at upload (``contract.estimate``).
    estimate_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Which field comes first where the upload's check found interlacing (``tff``/``bff``), else None.
    field_parity: Mapped[str | None] = mapped_column(String(3), nullable=True)
    #: A quick test run: the second of its original where its excerpt starts (None: the whole video).
    excerpt_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Restoration strength ("0".."1" or "auto"; backend.intake.strength) and Real-CUGAN's denoise level.
    strength: Mapped[str] = mapped_column(String(8), default="1", server_default="1")
    denoise: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: What the run changed in the video and why: catalogue reasons ``{code, params}`` from the done events.
    notes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    #: The output's container, chosen at upload (``contract.container``); rows from before it are MP4.
    container: Mapped[str] = mapped_column(String(8), default="mp4", server_default="mp4")
    #: Wall time the adapter spent on the job (from the done event).
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The last retry the adapter scheduled (docs/operations.md "Retries"): the attempt it will be, of how
    #: many, when it runs, and why (catalogue code, parameters, English text); retry_at is cleared by the
    #: first progress after it. A model-server outage keeps the attempt (it is not counted).
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retry_code: Mapped[str | None] = mapped_column(Text, nullable=True)
    retry_params: Mapped[dict[str, int | float | str] | None] = mapped_column(JSON, nullable=True)
    retry_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: True when the retry waits for the model server (no attempt used).
    retry_infra: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: The run of the task the progress columns belong to (``ProgressEvent.run``): a retry or redelivery
    #: starts a new run from frame 0, and progress of an earlier run is ignored. None: no run seen yet.
    run: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: Segment tasks (and, once every segment is done, the assembly task) of a segmented job;
    #: empty for a job that runs as one task.
    tasks: Mapped[list[Task]] = relationship(
        back_populates="job", cascade="all, delete-orphan", lazy="selectin", order_by="Task.index"
    )


class Task(Base):
    """One queued part of a segmented job: a segment (frames in [start_pts, end_pts)) or the assembly."""

    __tablename__ = "tasks"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    #: Segment index from 0; the assembly task has index = number of segments.
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="segment")
    count: Mapped[int] = mapped_column(Integer)
    #: Bounds in the input video stream's time base; None = start / end of the stream.
    start_pts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_pts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When this task's message was confirmed: one turn of the job's owner in the fair queue.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    frames_total: Mapped[int] = mapped_column(Integer, default=0)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    job: Mapped[Job] = relationship(back_populates="tasks")


class Speed(Base):
    """Speed of one finished upscale-only job, kept after the job itself is deleted (for time estimates)."""

    __tablename__ = "speeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(64), index=True)
    fps: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Lease(Base):
    """A named lease one backend holds until ``expires_at`` (the janitor's leader, backend.janitor.leases)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Tombstone(Base):
    """A deleted job's id, kept after its row so its cancel outlives every task still queued for it."""

    __tablename__ = "tombstones"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Reservation(Base):
    """Bytes promised to an upload still arriving (``backend.intake.ledger``): counted against its owner's
    quota."""

    __tablename__ = "reservations"

    #: ``tus:<upload id>``, ``form:<id>`` (a multipart upload) or ``rerun:<id>``.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Renewed while the upload moves; an expired reservation counts for nothing and is swept.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UploadMark(Base):
    """One upload counted in an hourly quota window (``owner:...`` or ``address:...``); gone after an hour."""

    __tablename__ = "upload_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: The reservation it came with, so a refused multipart upload is not counted.
    ref: Mapped[str] = mapped_column(String(64), index=True)


class Revocation(Base):
    """An owner's sessions revoked: their cookies signed before ``revoked_at`` (epoch s) no longer count."""

    __tablename__ = "revocations"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    revoked_at: Mapped[float] = mapped_column(Float)


def make_engine(database_url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and write-locking transactions."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN so it can be IMMEDIATE: two threads that
        # read then write would otherwise deadlock on the lock upgrade instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """Session factory; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


MIGRATIONS = Path(__file__).with_name("migrations")
#: The first revision: the schema that ``create_all`` made before migrations existed.
BASELINE = "0001"
# Held (per transaction) while one backend replica migrates, so replicas starting together take turns.
_MIGRATION_LOCK = 0x56535201


def alembic_config(connection: Any = None) -> Config:
    """Alembic's configuration for ``backend/jobs/migrations``, bound to ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (a database made by ``create_all`` is adopted as 0001)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "jobs" in tables and "alembic_version" not in tables:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")


def main(argv: list[str] | None = None) -> int:
    """``python -m backend.jobs.db revision MESSAGE``: autogenerate the next revision on a scratch SQLite
    file."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "revision":
        print('usage: python -m backend.jobs.db revision "what changed"', file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/scratch.db")
        migrate(engine)
        with engine.begin() as connection:
            config = alembic_config(connection)
            head = ScriptDirectory.from_config(config).get_current_head() or "0"
            command.revision(config, message=args[1], autogenerate=True, rev_id=f"{int(head) + 1:04d}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
