"""The collaborators the HTTP routes work with, built once by ``backend.app.create_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from contract.probe import MediaInfo
from contract.probe import keyframes as read_keyframes

from .leases import Leases
from .ledger import Ledger
from .metrics import Metrics
from .settings import Settings
from .store import JobStore


class Prober(Protocol):
    """contract.probe.probe's signature."""

    def __call__(
        self,
        path: Path,
        *,
        max_width: int,
        max_height: int,
        max_duration_s: float,
        timeout_s: float = ...,
    ) -> MediaInfo: ...


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
