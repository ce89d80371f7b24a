"""Named leases in the jobs database: one backend at a time holds one, until it stops renewing it.

Taking a lease is one conditional UPDATE (it is free, expired, or already ours) and, when no row exists
yet, one INSERT that a concurrent INSERT makes fail on the primary key. Both are atomic on SQLite and
PostgreSQL, so two backends never both hold a lease. Expiry uses each backend's wall clock: clocks
must agree to well within the lease's length (NTP does).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.jobs.db import Lease, utcnow

log = logging.getLogger(__name__)


class Leases:
    """Take, renew and give back named leases."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def take(self, name: str, holder: str, seconds: float, now: datetime | None = None) -> bool:
        """Take or renew ``name`` for ``seconds``; True when ``holder`` holds it now."""
        now = now or utcnow()
        expires = now + timedelta(seconds=seconds)
        claim = (
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=expires)
        )
        with self._sessions() as session, session.begin():
            if session.execute(claim).rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with self._sessions() as session, session.begin():
                session.execute(insert(Lease).values(name=name, holder=holder, expires_at=expires))
        except IntegrityError:
            return False  # someone holds it (or took it first)
        return True

    def release(self, name: str, holder: str) -> None:
        """Give ``name`` back so another backend need not wait for it to expire."""
        with self._sessions() as session, session.begin():
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    def holder(self, name: str, now: datetime | None = None) -> str | None:
        """Who holds ``name`` now (None: nobody, or it expired)."""
        now = now or utcnow()
        with self._sessions() as session:
            lease = session.get(Lease, name)
            if lease is None:
                return None
            expires = lease.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=now.tzinfo)  # SQLite returns naive UTC
            return lease.holder if expires > now else None
