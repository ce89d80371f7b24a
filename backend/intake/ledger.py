"""The quota ledger in the jobs database: bytes reserved by uploads still arriving, and hourly upload marks.

Every decision is one transaction that first locks the keys it counts (an owner, a client address): on
PostgreSQL a transaction-scoped advisory lock per key, on SQLite the database's write lock (``BEGIN
IMMEDIATE``, backend.jobs.db). So two uploads, on one backend or on two replicas, never both take the last
room
of a quota. Reservations expire unless renewed (a backend killed mid-upload frees its promise); marks are
forgotten an hour after they were made, and the janitor's ``ledger`` sweep deletes both.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import QuotaExceeded
from backend.jobs.db import Job, Reservation, UploadMark, utcnow
from contract.catalogue import reason

HOUR_S = 3600
#: Retry-After of a storage refusal: space is freed by the owner (or retention), not by waiting.
STORAGE_RETRY_S = HOUR_S


@dataclass(frozen=True)
class Hourly:
    """An hourly window to check and mark: ``owner:<id>`` or ``address:<ip>``, its limit and refusal code."""

    key: str
    limit: int
    code: str


@dataclass(frozen=True)
class Claim:
    """What one reservation asks for: at least ``need`` bytes, ``want`` if there is room, within ``quota``."""

    rid: str
    owner: str
    need: int
    want: int
    quota: int
    ttl_s: float


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def _lock(session: Session, keys: Sequence[str]) -> None:
    """Serialise decisions on these keys across every backend (sorted: no two lockers wait on each other)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the transaction began IMMEDIATE and holds the only write lock
    for key in sorted(set(keys)):
        session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(key.encode()) - 2**31)))


class Ledger:
    """Reserve, renew and release upload bytes; check and mark hourly windows."""

    def __init__(self, sessions: sessionmaker[Session], on_disk: Callable[[list[str]], int]) -> None:
        self._sessions = sessions
        #: Bytes on disk of these jobs' folders (backend.intake.quotas.stored_bytes, bound to the storage
        #: root).
        self._on_disk = on_disk

    def admit(self, claim: Claim, hourly: Sequence[Hourly], now: datetime | None = None) -> int:
        """Check and mark the hourly windows and reserve ``claim``, all or nothing; the bytes reserved."""
        now = now or utcnow()
        with self._sessions() as session, session.begin():
            _lock(session, [f"owner:{claim.owner}", *(h.key for h in hourly)])
            for window in hourly:
                _check_hourly(session, window, now)
            granted = self._reserve(session, claim, now)
            session.add_all(UploadMark(key=window.key, at=now, ref=claim.rid) for window in hourly)
        return granted

    def grow(self, claim: Claim, now: datetime | None = None) -> int:
        """Raise an existing reservation to at least ``claim.need`` bytes; the bytes reserved."""
        now = now or utcnow()
        with self._sessions() as session, session.begin():
            _lock(session, [f"owner:{claim.owner}"])
            return self._reserve(session, claim, now)

    def _reserve(self, session: Session, claim: Claim, now: datetime) -> int:
        row = session.get(Reservation, claim.rid)
        expires = now + timedelta(seconds=claim.ttl_s)
        if claim.quota:
            ids = list(session.scalars(select(Job.id).where(Job.owner == claim.owner)))
            others = session.scalar(
                select(func.coalesce(func.sum(Reservation.bytes), 0)).where(
                    Reservation.owner == claim.owner,
                    Reservation.id != claim.rid,
                    Reservation.expires_at > now,
                )
            )
            used = self._on_disk(ids) + int(others or 0)
            room = claim.quota - used
            if claim.need > room:
                raise storage_refusal(claim.need, used, claim.quota)
            granted = min(max(claim.want, claim.need), room)
        else:
            granted = max(claim.want, claim.need)
        if row is None:
            session.add(Reservation(id=claim.rid, owner=claim.owner, bytes=granted, expires_at=expires))
        else:
            row.bytes, row.expires_at = max(row.bytes, granted), expires
            granted = row.bytes
        return granted

    def renew(self, rid: str, ttl_s: float, now: datetime | None = None) -> bool:
        """Keep a reservation alive for ``ttl_s`` more; False when it is gone."""
        expires = (now or utcnow()) + timedelta(seconds=ttl_s)
        with self._sessions() as session, session.begin():
            change = update(Reservation).where(Reservation.id == rid).values(expires_at=expires)
            return bool(session.execute(change).rowcount)  # type: ignore[attr-defined]

    def release(self, rid: str, *, unmark: bool = False) -> None:
        """The upload ended (a job holds its bytes) or was refused; ``unmark``: it does not count either."""
        with self._sessions() as session, session.begin():
            session.execute(delete(Reservation).where(Reservation.id == rid))
            if unmark:
                session.execute(delete(UploadMark).where(UploadMark.ref == rid))

    def reserved(self, owner: str, now: datetime | None = None) -> int:
        """Bytes promised to the owner's uploads still arriving."""
        now = now or utcnow()
        with self._sessions() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(Reservation.bytes), 0)).where(
                    Reservation.owner == owner, Reservation.expires_at > now
                )
            )
        return int(total or 0)

    def sweep(self, now: datetime | None = None) -> int:
        """Forget expired reservations and marks older than the hour; how many rows went."""
        now = now or utcnow()
        with self._sessions() as session, session.begin():
            old = now - timedelta(seconds=HOUR_S)
            done = [
                session.execute(delete(Reservation).where(Reservation.expires_at <= now)),
                session.execute(delete(UploadMark).where(UploadMark.at <= old)),
            ]
        counts: list[int] = [result.rowcount for result in done]  # type: ignore[attr-defined]
        return sum(counts)


def _check_hourly(session: Session, window: Hourly, now: datetime) -> None:
    """Refuse (429) when ``window.key`` already has ``limit`` marks in the last hour; its old marks go."""
    start = now - timedelta(seconds=HOUR_S)
    session.execute(delete(UploadMark).where(UploadMark.key == window.key, UploadMark.at <= start))
    if window.limit <= 0:
        return
    count, oldest = session.execute(
        select(func.count(UploadMark.id), func.min(UploadMark.at)).where(UploadMark.key == window.key)
    ).one()
    if count < window.limit or oldest is None:
        return
    wait = int((_aware(oldest) - start).total_seconds()) + 1
    raise QuotaExceeded(reason(window.code, limit=window.limit, retry_after_s=wait), 429, wait)


def storage_refusal(need: int, used: int, quota: int) -> QuotaExceeded:
    """413 when the upload alone exceeds the whole quota, else 507 (delete something first)."""
    if need > quota:
        return QuotaExceeded(reason("quota.upload_over_quota", limit_bytes=quota), 413, STORAGE_RETRY_S)
    why = reason("quota.storage", used_bytes=used, limit_bytes=quota)
    return QuotaExceeded(why, 507, STORAGE_RETRY_S)
