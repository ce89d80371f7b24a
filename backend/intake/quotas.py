"""Per-owner quotas checked before an upload is stored: active jobs, stored bytes, uploads per hour.

Anonymous (cookie) owners are also limited per client address, since a new cookie is free. Operators are
exempt. Stored bytes are what the owner's jobs hold on disk plus what their uploads still arriving were
promised (``backend.intake.ledger``: a tus upload reserves its whole ``Upload-Length`` at creation, a
multipart
upload its bytes as they arrive); the hourly windows are marks in the same database. Both are decided in
one locked transaction, so parallel uploads on any number of replicas never pass a quota together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from backend.api.identity import Caller
from backend.api.services import Services
from backend.errors import QuotaExceeded
from backend.intake.ledger import Claim, Hourly, Ledger
from backend.intake.upload import FORM_OVERHEAD
from backend.jobs import rules as jobs
from contract import storage
from contract.catalogue import reason

__all__ = ["Admission", "QuotaExceeded", "admit", "check_active", "stored_bytes"]

#: A multipart upload reserves this much ahead of its bytes (fewer database round trips), room allowing.
RESERVE_STEP = 4 * 1024 * 1024
#: The shortest life of a reservation not renewed (a backend killed mid-upload frees it after this).
MIN_TTL_S = 60.0


def _folder_bytes(folder: Path) -> int:
    total = 0
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except OSError:
                continue  # removed while we looked
    return total


def stored_bytes(root: Path, job_ids: list[str]) -> int:
    """Bytes on disk of these jobs' folders (inputs, results, previews, cues, segments)."""
    return sum(_folder_bytes(storage.resolve(root, storage.job_dir(job_id))) for job_id in job_ids)


@dataclass
class Admission:
    """An upload let in by the quotas: its reservation (none for operators) and how to end it."""

    ledger: Ledger | None = None
    claim: Claim | None = None
    reserved: int = 0
    #: A tus upload was counted in the hour at its creation, whatever becomes of it.
    keep_marks: bool = False

    def max_bytes(self, upload_limit: int) -> int:
        """The upload size cap: the server's limit (the storage quota is held by ``grow``)."""
        return upload_limit

    def grow(self, size: int) -> None:
        """Reserve up to ``size`` bytes (blocking: call it from a thread); QuotaExceeded when no room."""
        if self.ledger is None or self.claim is None or size <= self.reserved:
            return
        want = size + min(RESERVE_STEP, max(size, 1))
        self.reserved = self.ledger.grow(replace(self.claim, need=size, want=want))

    def accepted(self) -> None:
        """The job row holds the bytes now: the reservation goes (the hourly marks stay)."""
        if self.ledger is not None and self.claim is not None:
            self.ledger.release(self.claim.rid)

    def refused(self) -> None:
        """Nothing was kept: the reservation goes and the upload is not counted in the hour either."""
        if self.ledger is not None and self.claim is not None:
            self.ledger.release(self.claim.rid, unmark=not self.keep_marks)


def reservation(rid: str) -> Claim:
    """A handle on an existing reservation (to release it): nothing more is asked."""
    return Claim(rid, "", 0, 0, 0, MIN_TTL_S)


def _hourly(request: Request, settings: object, caller: Caller) -> list[Hourly]:
    windows = []
    limit = getattr(settings, "QUOTA_UPLOADS_PER_HOUR", 0)
    if limit:
        windows.append(Hourly(f"owner:{caller.owner}", limit, "quota.uploads_per_hour"))
    limit = getattr(settings, "QUOTA_ADDRESS_UPLOADS_PER_HOUR", 0)
    if caller.owner.startswith("anon-") and limit:
        # backend.api.addresses decided it (TRUSTED_PROXIES) for the whole request, the access log included.
        address = request.client.host if request.client else ""
        windows.append(Hourly(f"address:{address}", limit, "quota.address_uploads_per_hour"))
    return windows


async def check_active(svc: Services, caller: Caller) -> None:
    """429 when the owner already has ``QUOTA_ACTIVE_JOBS`` queued or running jobs."""
    limit = svc.settings.QUOTA_ACTIVE_JOBS
    if caller.operator or not limit:
        return
    owned = await run_in_threadpool(svc.store.owned, caller.owner)
    if sum(1 for _id, status in owned if status in jobs.ACTIVE) >= limit:
        why = reason("quota.active_jobs", limit=limit)
        raise QuotaExceeded(why, 429, svc.settings.QUOTA_ACTIVE_RETRY_S)


async def admit(
    request: Request, svc: Services, caller: Caller, need: int, *, rid: str, ttl_s: float
) -> Admission:
    """Check every quota that needs no body, count the upload in the hour and reserve ``need`` bytes.

    Raises QuotaExceeded (nothing is stored or counted) or lets the upload in; the caller ends the
    admission with ``accepted()`` or ``refused()`` (or lets the reservation expire).
    """
    if caller.operator or svc.ledger is None:
        return Admission()
    await check_active(svc, caller)
    claim = Claim(rid, caller.owner, need, need, svc.settings.QUOTA_STORAGE_BYTES, max(MIN_TTL_S, ttl_s))
    hourly = _hourly(request, svc.settings, caller)
    reserved = await run_in_threadpool(svc.ledger.admit, claim, hourly)
    return Admission(svc.ledger, claim, reserved)


def form_hint(content_length: int | None) -> int:
    """The file bytes a multipart body of ``content_length`` surely carries (the form overhead aside)."""
    return 0 if content_length is None else max(0, content_length - FORM_OVERHEAD)
