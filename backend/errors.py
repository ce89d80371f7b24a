"""Backend error tree.

BackendError                      every error the backend raises on purpose
├── ApiError                      carries an HTTP status and a catalogue Reason (code, params, English detail)
│   ├── Unauthorized              401  integrated mode without a valid token
│   ├── JobNotFound               404  no such job, someone else's, or it was deleted
│   ├── UploadTooLarge            413  the upload exceeds MAX_UPLOAD_BYTES (nothing is kept)
│   ├── UnsupportedMedia          415  not a video, or a refused container/extension
│   ├── InvalidRequest            422  bad options or an unreadable video
│   ├── QuotaExceeded             429/507/413  an owner's or address's quota (with Retry-After)
│   ├── UploadBusy                423  another request is writing this resumable upload
│   └── StorageFull               507  no room (ENOSPC) or quota (EDQUOT) left on the storage volume
└── BrokerUnavailable             RabbitMQ cannot be reached; jobs stay in the outbox
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from contract.catalogue import Reason, ReasonError


class BackendError(Exception):
    """Base of every deliberate backend error."""


class ApiError(BackendError, ReasonError):
    """An error the client sees as ``{"detail": ..., "code": ..., "params": ...}`` with ``status_code``."""

    status_code = 500
    #: Extra response headers (a 401's ``WWW-Authenticate``).
    headers: ClassVar[Mapping[str, str] | None] = None

    def __init__(self, why: Reason) -> None:
        ReasonError.__init__(self, why)
        self.detail = why.text("en")


class Unauthorized(ApiError):
    """No valid credentials where they are required."""

    status_code = 401
    headers: ClassVar[Mapping[str, str] | None] = MappingProxyType({"WWW-Authenticate": "Bearer"})


class JobNotFound(ApiError):
    """No job with that id."""

    status_code = 404


class UploadTooLarge(ApiError):
    """The upload is larger than the configured limit."""

    status_code = 413


class UnsupportedMedia(ApiError):
    """The upload is not a video or its format is refused."""

    status_code = 415


class InvalidRequest(ApiError):
    """Bad options, malformed form, or a video that cannot be read."""

    status_code = 422


class StorageFull(ApiError):
    """The storage volume has no room for the upload (or another write of the request)."""

    status_code = 507


#: errno values of a full volume or an exhausted disk quota.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


#: PostgreSQL's SQLSTATE for "disk full"; SQLite says it in words.
PG_DISK_FULL, SQLITE_DISK_FULL = "53100", "database or disk is full"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a write refused by a full volume or an exhausted quota (files or the database)."""
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    orig = getattr(exc, "orig", None)  # a SQLAlchemy error wraps the driver's
    return getattr(orig, "sqlstate", None) == PG_DISK_FULL or SQLITE_DISK_FULL in str(orig or "")


class QuotaExceeded(ApiError):
    """A quota refusal: 429, 507 or 413, with the seconds to wait (``Retry-After``)."""

    def __init__(self, why: Reason, status_code: int, retry_after_s: int) -> None:
        super().__init__(why)
        self.status_code = status_code
        self.retry_after_s = max(1, retry_after_s)


class UploadBusy(ApiError):
    """Another request is writing this resumable upload right now (one writer per upload)."""

    status_code = 423


class BrokerUnavailable(BackendError):
    """RabbitMQ cannot be reached or refused a message."""
