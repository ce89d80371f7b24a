"""Revocable owner sessions: each owner cookie is signed with the moment it was issued, and an owner's
sessions can be revoked (``revocations``): cookies issued before that no longer identify anyone.

The owner themselves renews (``POST /api/session/renew``: every other copy of their cookie dies, theirs is
replaced), an operator revokes (``POST /api/owners/{owner}/revoke``). Looked up once per request with a
cookie; a short in-process cache keeps that off the database for repeated requests.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from backend.jobs.db import Revocation

#: How long a replica may keep believing a revocation it read (another replica's revoke shows after this).
CACHE_S = 2.0


class Revocations:
    """When each owner's sessions were last revoked (epoch seconds; 0 = never)."""

    def __init__(self, sessions: sessionmaker[Session], cache_s: float = CACHE_S) -> None:
        self._sessions = sessions
        self._cache_s = cache_s
        self._seen: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def revoked_at(self, owner: str) -> float:
        """The moment before which ``owner``'s cookies are refused (0: none are)."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(owner)
            if hit is not None and now - hit[1] < self._cache_s:
                return hit[0]
        with self._sessions() as session:
            row = session.get(Revocation, owner)
            value = row.revoked_at if row is not None else 0.0
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()  # a bounded cache: anonymous owners are many
            self._seen[owner] = (value, now)
        return value

    def revoke(self, owner: str, at: float | None = None) -> float:
        """Refuse every cookie of ``owner`` issued before now; the moment recorded."""
        moment = time.time() if at is None else at
        with self._sessions() as session, session.begin():
            row = session.get(Revocation, owner)
            if row is None:
                session.add(Revocation(owner=owner, revoked_at=moment))
            else:
                row.revoked_at = max(row.revoked_at, moment)
        with self._lock:
            self._seen.pop(owner, None)
        return moment
