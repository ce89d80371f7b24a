"""Per-owner quotas checked before an upload is stored: active jobs, stored bytes, uploads per hour.

Anonymous (cookie) owners are also limited per client address, since a new cookie is free. Operators are
exempt. Active jobs and stored bytes come from the database and the disk (shared by every replica); the
hourly windows are kept in this process's memory, so with N replicas a client may get up to N times the
hourly limit, and they restart empty.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from backend.api.identity import Caller
from backend.api.services import Services
from backend.errors import ApiError
from backend.jobs import rules as jobs
from backend.settings import Settings
from contract import storage
from contract.catalogue import Reason, reason

HOUR_S = 3600.0
#: A multipart body carries a little form overhead on top of the file (as in backend.intake.upload).
FORM_OVERHEAD = 1024 * 1024


class QuotaExceeded(ApiError):
    """A quota refusal: 429, 507 or 413, with the seconds to wait (``Retry-After``)."""

    def __init__(self, why: Reason, status_code: int, retry_after_s: int) -> None:
        super().__init__(why)
        self.status_code = status_code
        self.retry_after_s = max(1, retry_after_s)


class Window:
    """Times of accepted uploads per key over the last hour (thread-safe, this process only)."""

    def __init__(self, span_s: float = HOUR_S) -> None:
        self.span_s = span_s
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - self.span_s:
            times.popleft()
        return times

    def wait_s(self, key: str, limit: int, now: float) -> int | None:
        """Seconds until ``key`` may upload again (its oldest upload leaves the window); None: now."""
        with self._lock:
            times = self._live(key, now)
            if limit <= 0 or len(times) < limit:
                return None
            return int(times[0] + self.span_s - now) + 1

    def add(self, key: str, now: float) -> None:
        """Count one accepted upload of ``key``."""
        with self._lock:
            self._live(key, now).append(now)


def _networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part, strict=False) for part in setting.replace(",", " ").split()]


def _trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, trusted_proxies: str) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the forwarded one.

    ``X-Forwarded-For`` is read from the right, skipping trusted proxies: entries left of the first
    untrusted hop were written by the client and prove nothing.
    """
    peer = request.client.host if request.client else ""
    networks = _networks(trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


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
    """An upload let in by the quotas: how many bytes it may store, and what to count once accepted."""

    keys: list[str] = field(default_factory=list)
    window: Window | None = None
    #: Bytes the owner may still store (None: no storage quota).
    room_bytes: int | None = None
    used_bytes: int = 0
    quota_bytes: int = 0

    def max_bytes(self, upload_limit: int) -> int:
        """The upload size cap: the server's limit or the owner's room, whichever is smaller."""
        return upload_limit if self.room_bytes is None else max(0, min(upload_limit, self.room_bytes))

    def over_room(self, upload_limit: int) -> bool:
        """Whether a too-large upload was stopped by the quota rather than by the server's limit."""
        return self.room_bytes is not None and self.room_bytes < upload_limit

    def storage_refusal(self, size_hint: int | None = None) -> QuotaExceeded:
        """413 when the upload alone exceeds the whole quota, else 507 (delete something first)."""
        if size_hint is not None and size_hint > self.quota_bytes:
            why = reason("quota.upload_over_quota", limit_bytes=self.quota_bytes)
            return QuotaExceeded(why, 413, HOUR_S_INT)
        why = reason("quota.storage", used_bytes=self.used_bytes, limit_bytes=self.quota_bytes)
        return QuotaExceeded(why, 507, HOUR_S_INT)

    def accepted(self) -> None:
        """Count the stored upload in the hourly windows."""
        if self.window is not None:
            now = time.time()
            for key in self.keys:
                self.window.add(key, now)


#: Retry-After of a storage refusal: space is freed by the owner (or retention), not by waiting.
HOUR_S_INT = int(HOUR_S)


def window_of(request: Request) -> Window:
    """The app's hourly upload window (made on first use)."""
    state = request.app.state
    if getattr(state, "quota_window", None) is None:
        state.quota_window = Window()
    window: Window = state.quota_window
    return window


async def admit(request: Request, svc: Services, caller: Caller, content_length: int | None) -> Admission:
    """Check every quota that needs no body; raise QuotaExceeded (nothing is stored) or let the upload in."""
    settings = svc.settings
    if caller.operator:
        return Admission()
    window = window_of(request)
    keys = [f"owner:{caller.owner}"]
    _check_hourly(window, keys[0], settings.QUOTA_UPLOADS_PER_HOUR, "quota.uploads_per_hour")
    if caller.owner.startswith("anon-"):
        keys.append(f"address:{client_address(request, settings.TRUSTED_PROXIES)}")
        limit = settings.QUOTA_ADDRESS_UPLOADS_PER_HOUR
        _check_hourly(window, keys[1], limit, "quota.address_uploads_per_hour")
    owned = await run_in_threadpool(svc.store.owned, caller.owner)
    active = sum(1 for _id, status in owned if status in jobs.ACTIVE)
    if settings.QUOTA_ACTIVE_JOBS and active >= settings.QUOTA_ACTIVE_JOBS:
        why = reason("quota.active_jobs", limit=settings.QUOTA_ACTIVE_JOBS)
        raise QuotaExceeded(why, 429, settings.QUOTA_ACTIVE_RETRY_S)
    job_ids = [job_id for job_id, _status in owned]
    return await _storage(settings, Admission(keys, window), job_ids, content_length)


def _check_hourly(window: Window, key: str, limit: int, code: str) -> None:
    wait = window.wait_s(key, limit, time.time())
    if wait is not None:
        raise QuotaExceeded(reason(code, limit=limit, retry_after_s=wait), 429, wait)


async def _storage(
    settings: Settings, admission: Admission, job_ids: list[str], length: int | None
) -> Admission:
    quota = settings.QUOTA_STORAGE_BYTES
    if not quota:
        return admission
    used = await run_in_threadpool(stored_bytes, settings.STORAGE_ROOT, job_ids)
    admission.used_bytes, admission.quota_bytes, admission.room_bytes = used, quota, quota - used
    # The body's length is the file plus a little form: only a length beyond that overhead is sure.
    size_hint = None if length is None else max(0, length - FORM_OVERHEAD)
    if admission.room_bytes <= 0 or (size_hint is not None and size_hint > admission.room_bytes):
        raise admission.storage_refusal(size_hint)
    return admission
