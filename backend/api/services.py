"""The collaborators the HTTP routes work with, built once by ``backend.app.create_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from backend.intake.ledger import Ledger
from backend.janitor.leases import Leases
from backend.jobs.store import JobStore
from backend.metrics import Metrics
from backend.settings import Settings
from contract.mediainfo import Prober
from contract.probe import keyframes as read_keyframes


class Waker(Protocol):
    """Something to nudge after a job is committed (the outbox)."""

    def wake(self) -> None: ...


@dataclass
class Services:
    """Collaborators of the routes (kept on ``app.state.services``)."""

    settings: Settings
    store: JobStore
    metrics: Metrics
    probe: Prober
    outbox: Waker | None = None
    #: Keyframe pts of an upload (contract.probe.keyframes), for segment planning.
    keyframes: Callable[[Path], list[int]] = read_keyframes
    #: The quota ledger (reservations, hourly marks) and the named leases (one writer per tus upload).
    ledger: Ledger | None = None
    leases: Leases | None = None
