"""The quota ledger on SQLite and PostgreSQL: all-or-nothing admission, growth to the byte, forgetting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import QuotaExceeded
from backend.intake.ledger import Claim, Hourly, Ledger
from backend.jobs.db import Reservation, UploadMark, utcnow

HOUR = Hourly("owner:anon-x", 2, "quota.uploads_per_hour")


def rows(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Reservation)) or 0),
            int(session.scalar(select(func.count()).select_from(UploadMark)) or 0),
        )


def test_reservations_hold_to_the_byte_and_refusals_count_nothing(
    migrated_sessions: sessionmaker[Session],
) -> None:
    ledger = Ledger(migrated_sessions, lambda ids: 30)  # 30 bytes on disk already
    assert ledger.admit(Claim("tus:a", "anon-x", 50, 50, 100, 60), [HOUR]) == 50
    with pytest.raises(QuotaExceeded) as refused:
        ledger.admit(Claim("tus:b", "anon-x", 21, 21, 100, 60), [HOUR])
    assert refused.value.status_code == 507 and refused.value.reason.params["used_bytes"] == 80
    assert rows(migrated_sessions) == (1, 1)  # the refusal reserved and counted nothing
    # A growing upload takes what is left, to the byte, and no more.
    assert ledger.admit(Claim("form:c", "anon-x", 0, 0, 100, 60), [HOUR]) == 0
    assert ledger.grow(Claim("form:c", "anon-x", 10, 40, 100, 60)) == 20
    with pytest.raises(QuotaExceeded):
        ledger.grow(Claim("form:c", "anon-x", 21, 21, 100, 60))
    ledger.release("form:c", unmark=True)
    assert ledger.reserved("anon-x") == 50 and rows(migrated_sessions) == (1, 1)


def test_the_hour_refuses_then_forgets_old_marks_and_expired_reservations(
    migrated_sessions: sessionmaker[Session],
) -> None:
    ledger = Ledger(migrated_sessions, lambda ids: 0)
    now = utcnow()
    earlier = now - timedelta(minutes=59)
    ledger.admit(Claim("tus:a", "anon-x", 1, 1, 0, 60), [HOUR], now=earlier)
    ledger.admit(Claim("tus:b", "anon-x", 1, 1, 0, 60), [HOUR], now=earlier)
    with pytest.raises(QuotaExceeded) as refused:
        ledger.admit(Claim("tus:c", "anon-x", 1, 1, 0, 60), [HOUR], now=now)
    assert refused.value.status_code == 429 and 55 <= refused.value.retry_after_s <= 65
    later = now + timedelta(minutes=2)
    assert ledger.reserved("anon-x", later) == 0  # expired reservations count for nothing
    assert ledger.sweep(later) == 4 and rows(migrated_sessions) == (0, 0)  # and the keys are forgotten
    ledger.admit(Claim("tus:d", "anon-x", 1, 1, 0, 60), [HOUR], now=later)
