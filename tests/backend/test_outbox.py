"""The fair outbox on a real database with a fake broker: room, turns, restarts, cancels, crashes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from backend.dispatch.broker import QueueState
from backend.dispatch.outbox import Outbox, TaskPublisher, task_message
from backend.errors import BrokerUnavailable
from backend.jobs import rules as jobs
from backend.jobs.db import Job, make_engine, make_sessions, migrate
from backend.jobs.store import JobStore
from tests.fixtures.backend import DATABASES
from tests.fixtures.database import copy_sqlite
from tests.fixtures.jobs import T0, new_job, seg_done, segmented
from tests.fixtures.publishers import CrashAfterConfirm, FakeBroker


def make_store(url: str) -> JobStore:
    engine = make_engine(url)
    migrate(engine)
    return JobStore(make_sessions(engine))


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite (a copy of the migrated template), and the real PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "db.sqlite")


@pytest.fixture
def store(db_url: str) -> JobStore:
    return make_store(db_url)


def submit(store: JobStore, owner: str, count: int, start: float = 0.0) -> list[str]:
    """``count`` queued, unpublished whole-video jobs of ``owner``, uploaded a second apart."""
    ids = []
    for i in range(count):
        job = new_job()
        job.id = f"{owner.lower()}{i:03d}".ljust(32, "0")  # ids are hex: owner A's start with "a"
        job.owner, job.published = owner, False
        job.created_at = job.updated_at = T0 + timedelta(seconds=start + i)
        store.add(job)
        ids.append(job.id)
    return ids


def test_the_fake_is_a_task_publisher() -> None:
    broker: TaskPublisher = FakeBroker()
    assert broker.queue_state() == QueueState(ready=0, consumers=1)


def test_only_as_many_as_the_adapters_can_take_are_published(store: JobStore) -> None:
    submit(store, "A", 5)
    broker = FakeBroker(consumers=2)
    outbox = Outbox(store, broker)
    assert outbox.publish_pending() == 2 and len(broker.ready) == 2
    assert outbox.publish_pending() == 0, "the queue is full: nothing more"
    broker.take()
    assert outbox.publish_pending() == 1 and len(broker.ready) == 2
    waiting = [job for job in store.active() if not job.published]
    assert len(waiting) == 2


def test_scale_from_zero_still_gets_one_task(store: JobStore) -> None:
    submit(store, "A", 3)
    broker = FakeBroker(consumers=0)
    outbox = Outbox(store, broker)
    assert outbox.publish_pending() == 1
    assert outbox.publish_pending() == 0, "one ready message is enough to wake an autoscaler"


def test_without_fairness_everything_goes_at_once_in_arrival_order(store: JobStore) -> None:
    ids = submit(store, "A", 4) + submit(store, "B", 1, start=10)
    broker = FakeBroker(consumers=1)
    assert Outbox(store, broker, fair=False).publish_pending() == 5
    assert [m.job_id for m in broker.published] == [ids[0], ids[4], ids[1], ids[2], ids[3]]


def test_b_behind_twelve_of_a_is_among_the_first_two_started_after_its_upload(store: JobStore) -> None:
    a = submit(store, "A", 12)
    broker = FakeBroker(consumers=1)
    outbox = Outbox(store, broker)
    outbox.publish_pending()
    broker.take()  # A's first job runs
    outbox.publish_pending()  # A's second waits in the queue
    (b,) = submit(store, "B", 1, start=100)
    assert outbox.publish_pending() == 0, "no room while the adapter is busy and one task is ready"
    for _ in range(12):
        broker.take()
        outbox.publish_pending()
    started = [m.job_id for m in broker.started]
    after_upload = started[1:]
    assert b in after_upload[:2], started
    assert started == [a[0], a[1], b, *a[2:]]
    stored = store.get(b)
    assert stored is not None and stored.published and stored.published_at is not None


def test_a_restarted_backend_keeps_the_turn_order(db_url: str) -> None:
    first = make_store(db_url)
    submit(first, "A", 4)
    submit(first, "B", 2, start=0.5)
    broker = FakeBroker(consumers=1)
    outbox = Outbox(first, broker)
    for _ in range(3):
        outbox.publish_pending()
        broker.take()
    # A new process: a fresh store and outbox on the same database, memory only in published_at.
    second, broker2 = make_store(db_url), FakeBroker(consumers=1)
    restarted = Outbox(second, broker2)
    for _ in range(3):
        restarted.publish_pending()
        broker2.take()
    owners = "".join(m.job_id[0] for m in broker.started + broker2.started)
    assert owners == "ababaa"


def test_weights_from_the_operator(store: JobStore) -> None:
    submit(store, "A", 6)
    submit(store, "B", 3, start=0.5)
    broker = FakeBroker(consumers=1)
    outbox = Outbox(store, broker, weights={"B": 2})
    for _ in range(6):
        outbox.publish_pending()
        broker.take()
    assert "".join(m.job_id[0] for m in broker.started) == "abbaba"


class CancellingBroker(FakeBroker):
    """Cancels a job after the outbox read the waiting line, before it locks the row to publish it."""

    def __init__(self, store: JobStore, victim: str) -> None:
        super().__init__(consumers=3)
        self.store, self.victim = store, victim

    def queue_state(self) -> QueueState:
        self.store.update(self.victim, jobs.cancel)
        return super().queue_state()


def test_a_cancel_seen_inside_the_locked_transaction_is_not_published(store: JobStore) -> None:
    victim, other = submit(store, "A", 2)
    broker = CancellingBroker(store, victim)
    assert Outbox(store, broker).publish_pending() == 1
    assert [m.job_id for m in broker.published] == [other]
    cancelled = store.get(victim)
    assert cancelled is not None and cancelled.status == jobs.CANCELLED and cancelled.published_at is None


def test_a_crash_between_confirm_and_commit_publishes_the_same_task_again(store: JobStore) -> None:
    (job_id,) = submit(store, "A", 1)
    broker = FakeBroker(consumers=1)
    outbox = Outbox(store, CrashAfterConfirm(broker))
    with pytest.raises(BrokerUnavailable):
        outbox.publish_pending()
    job = store.get(job_id)
    assert job is not None and not job.published and job.published_at is None, "rolled back"
    broker.take()  # an adapter took the confirmed copy: at least once, the same task goes again
    assert outbox.publish_pending() == 1
    assert [m.job_id for m in broker.published] == [job_id, job_id]
    job = store.get(job_id)
    assert job is not None and job.published and job.published_at is not None


def test_segments_spread_over_free_adapters_then_the_assembly_goes_first(store: JobStore) -> None:
    job = segmented()
    job.owner, job.published = "A", False
    for task in job.tasks:
        task.published = False
    store.add(job)
    submit(store, "B", 2, start=10_000)  # uploaded after the long video
    broker = FakeBroker(consumers=2)
    outbox = Outbox(store, broker)
    assert outbox.publish_pending() == 2
    assert [(m.job_id[0], m.kind) for m in broker.ready] == [("a", "segment"), ("b", "job")]
    broker.take(), broker.take()  # two adapters, two owners
    outbox.publish_pending()
    assert [(m.kind, m.segment.index if m.segment else None) for m in broker.ready] == [
        ("segment", 1),
        ("job", None),
    ]
    while broker.ready or outbox.publish_pending():
        broker.take()
    for index in range(3):
        store.apply_event(seg_done(index).model_copy(update={"job_id": job.id}))
    submit(store, "C", 1, start=20_000)  # a newcomer, never served, still waits for the assembly
    outbox.publish_pending()
    assert [m.kind for m in broker.ready] == ["assemble", "job"]


def test_the_waiting_gauge_counts_the_database_and_the_ready_messages(store: JobStore) -> None:
    submit(store, "A", 5)
    broker = FakeBroker(consumers=2)
    seen: list[int] = []
    outbox = Outbox(store, broker, on_waiting=seen.append, on_depth=lambda _depth: None)
    outbox.publish_pending()
    outbox._report(broker.queue_state())  # what run() does after each pass
    assert seen == [5], "3 in the database + 2 ready"
    broker.take()
    outbox.publish_pending()
    outbox._report(broker.queue_state())
    assert seen[-1] == 4 and outbox.seen == QueueState(ready=2, consumers=2)


def test_a_job_stored_before_the_fair_queue_is_published_too(store: JobStore) -> None:
    job: Job = new_job()
    job.published = False
    store.add(job)
    broker = FakeBroker(consumers=1)
    assert Outbox(store, broker).publish_pending() == 1
    stored = store.get(job.id)
    assert stored is not None and store.served({job.owner}) == {job.owner: [stored.published_at]}


def test_a_stored_row_is_read_back_by_the_one_options_model() -> None:
    job = new_job()
    job.container, job.hdr, job.description_density, job.strength = "mkv", "sdr", "brief", "0.6"
    options = task_message(job).options
    assert (options.container, options.hdr, options.density, options.strength) == ("mkv", "sdr", "brief", 0.6)
    assert task_message(job).output_key.endswith(".mkv")


@pytest.mark.parametrize(("column", "value"), [("container", "auto"), ("hdr", "hdr10"), ("background", "")])
def test_a_row_the_options_model_refuses_fails_loudly_not_falling_back(column: str, value: str) -> None:
    job = new_job()
    setattr(job, column, value)
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        task_message(job)


def test_a_refused_row_fails_its_own_job_and_the_queue_goes_on(store: JobStore) -> None:
    bad, good = submit(store, "A", 1)[0], submit(store, "B", 1)[0]

    def refused(job: Job) -> bool:
        job.hdr = "wide"  # a row no options model accepts
        return True

    store.update(bad, refused)
    broker = FakeBroker(consumers=2)
    assert Outbox(store, broker).publish_pending() == 1
    assert [message.job_id for message in broker.ready] == [good]
    failed = store.get(bad)
    assert failed is not None and failed.status == jobs.FAILED
    assert failed.error_code == "job.malformed_task" and failed.error_params == {
        "detail": "stored options refused: hdr"
    }
