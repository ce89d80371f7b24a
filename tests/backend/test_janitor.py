"""The janitor's leader election on SQLite and PostgreSQL: one backend sweeps; a dead one's lease passes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.app import create_app
from backend.janitor.leases import Leases
from backend.janitor.sweeps import Reclaimed, Sweep
from backend.janitor.thread import LEASE, Janitor
from backend.jobs.db import Tombstone, make_engine, make_sessions, utcnow
from backend.metrics import Metrics
from backend.settings import Settings
from contract import storage
from tests.fixtures.backend import scrape, wait_for


@pytest.fixture
def sessions(migrated_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A migrated database shared by every 'backend' of a test."""
    return migrated_sessions


class Counting:
    """A sweep that counts its runs and reclaims one 10-byte file per run."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> Reclaimed:
        self.runs += 1
        return Reclaimed(files=1, bytes=10)


def _janitor(
    sessions: sessionmaker[Session],
    holder: str,
    sweep: Counting,
    lease_s: float = 60,
    metrics: Metrics | None = None,
) -> Janitor:
    metrics = metrics or Metrics(dict)
    return Janitor(
        Leases(sessions), [Sweep("count", sweep)], metrics, interval_s=0.05, lease_s=lease_s, holder=holder
    )


def test_a_lease_has_one_holder_until_it_expires(sessions: sessionmaker[Session]) -> None:
    leases, now = Leases(sessions), utcnow()
    assert leases.take(LEASE, "a", 30, now=now)
    assert not leases.take(LEASE, "b", 30, now=now + timedelta(seconds=10))
    assert leases.take(LEASE, "a", 30, now=now + timedelta(seconds=20))  # renewed: now until +50 s
    assert not leases.take(LEASE, "b", 30, now=now + timedelta(seconds=45))
    assert leases.holder(LEASE, now=now + timedelta(seconds=45)) == "a"
    assert leases.take(LEASE, "b", 30, now=now + timedelta(seconds=51))  # a stopped renewing
    assert not leases.take(LEASE, "a", 30, now=now + timedelta(seconds=52))
    leases.release(LEASE, "a")  # not a's any more: changes nothing
    assert leases.holder(LEASE, now=now + timedelta(seconds=52)) == "b"
    leases.release(LEASE, "b")
    assert leases.holder(LEASE) is None
    assert leases.take(LEASE, "a", 30)


def _race(leases: Leases, names: list[str]) -> list[str]:
    """Every name tries to take the lease at the same moment; the names that got it."""
    start = threading.Barrier(len(names))
    won: list[str] = []

    def contend(name: str) -> None:
        start.wait(10)
        if leases.take(LEASE, name, 30):
            won.append(name)

    threads = [threading.Thread(target=contend, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return won


def test_backends_racing_for_a_free_or_expired_lease_get_one_holder(sessions: sessionmaker[Session]) -> None:
    leases = Leases(sessions)
    for round_ in range(2):  # first no row at all (INSERT race), then an expired row (UPDATE race)
        won = _race(leases, [f"r{round_}-{i}" for i in range(6)])
        assert len(won) == 1, won
        assert leases.holder(LEASE) == won[0]
        assert leases.take(LEASE, won[0], -1)  # its holder "dies": the lease is expired now


def test_of_two_janitors_only_the_leader_sweeps_and_the_other_takes_over(
    sessions: sessionmaker[Session],
) -> None:
    first, second = Counting(), Counting()
    metrics = Metrics(dict)
    a = _janitor(sessions, "backend-a", first, lease_s=1.0, metrics=metrics)
    b = _janitor(sessions, "backend-b", second, lease_s=1.0)
    assert a.sweep_once() and a.leader
    for _ in range(3):
        assert not b.sweep_once() and not b.leader
        assert a.sweep_once()
    assert (first.runs, second.runs) == (4, 0)
    assert metrics.registry.get_sample_value("vsr_janitor_reclaimed_bytes_total", {"sweep": "count"}) == 40
    assert metrics.registry.get_sample_value("vsr_janitor_leader") == 1
    # a is killed: it neither renews nor gives back its lease; b leads once the lease has run out.
    wait_for(b.sweep_once, timeout=30, what="the second janitor to take the expired lease")
    assert b.leader and second.runs == 1
    assert not a.sweep_once() and not a.leader and first.runs == 4


def test_janitor_threads_sweep_while_leading_and_hand_over_on_stop(sessions: sessionmaker[Session]) -> None:
    first, second = Counting(), Counting()
    a = _janitor(sessions, "backend-a", first)
    assert a.sweep_once()  # a leads before b starts
    b = _janitor(sessions, "backend-b", second)
    a.start()
    b.start()
    try:
        wait_for(lambda: first.runs >= 5, what="the leader's passes")
        assert second.runs == 0 and not b.leader
        a.stop()
        a.join(10)
        # A stopping leader gives its lease back: b takes over at once, not after 60 s.
        wait_for(lambda: second.runs >= 1, what="the follower to lead after a graceful stop")
    finally:
        a.stop()
        b.stop()
        b.join(10)
    assert not a.is_alive() and not b.is_alive()


def test_a_failing_sweep_is_counted_and_the_others_still_run(sessions: sessionmaker[Session]) -> None:
    def broken() -> Reclaimed:
        raise OSError("disk on fire")

    after = Counting()
    metrics = Metrics(dict)
    janitor = Janitor(
        Leases(sessions), [Sweep("broken", broken), Sweep("after", after)], metrics, interval_s=1, lease_s=60
    )
    assert janitor.sweep_once()
    assert after.runs == 1
    assert metrics.registry.get_sample_value("vsr_janitor_sweep_errors_total", {"sweep": "broken"}) == 1
    assert janitor.sweep_once() and after.runs == 2


def test_the_app_runs_the_janitor_and_reports_what_it_reclaimed(settings: Settings) -> None:
    settings.JANITOR_INTERVAL_S, settings.UPLOAD_GRACE_S = 0.2, 0
    dead = settings.STORAGE_ROOT / "jobs" / ("f" * 32)
    dead.mkdir(parents=True)
    (dead / "input.mp4").write_bytes(b"x" * 1234)  # a backend killed mid-upload left this
    with TestClient(create_app(settings, broker=False)) as client:
        wait_for(lambda: not dead.exists(), what="the janitor to remove the dead upload")
        metrics = scrape(client)
        assert 'vsr_janitor_reclaimed_bytes_total{sweep="uploads"} 1234.0' in metrics
        assert 'vsr_janitor_reclaimed_files_total{sweep="uploads"} 1.0' in metrics
        assert "vsr_janitor_leader 1.0" in metrics
        assert "vsr_jobs_stuck 0.0" in metrics
    assert Leases(make_sessions(make_engine(settings.DATABASE_URL))).holder(LEASE) is None  # given back


def test_the_app_keeps_a_tombstoned_jobs_folder_and_restores_its_cancel_marker(settings: Settings) -> None:
    settings.JANITOR_INTERVAL_S, settings.ORPHAN_GRACE_S = 0.2, 0
    deleted, orphan = "d" * 32, "e" * 32
    for job_id in (deleted, orphan):
        (settings.STORAGE_ROOT / "jobs" / job_id).mkdir(parents=True)
        (settings.STORAGE_ROOT / "jobs" / job_id / "output.mp4").write_bytes(b"x" * 10)
    engine = make_engine(settings.DATABASE_URL)  # migrated: a copy of the session's template
    with make_sessions(engine)() as session, session.begin():
        session.add(Tombstone(job_id=deleted, owner="anon-x"))  # deleted while running; its marker was lost
    engine.dispose()
    with TestClient(create_app(settings, broker=False)):
        wait_for(lambda: not (settings.STORAGE_ROOT / "jobs" / orphan).exists(), what="the orphan's removal")
        marker = storage.resolve(settings.STORAGE_ROOT, storage.cancel_key(deleted))
        wait_for(marker.exists, what="the janitor to restore the cancel marker")
        assert (settings.STORAGE_ROOT / "jobs" / deleted / "output.mp4").exists()
