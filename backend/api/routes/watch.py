"""Watch links (issue 26): a short link to a small page that plays a shared result (docs/api.md).

``POST /api/jobs/{id}/share`` also answers ``watch_url``, ``/w/<token>``: the page served there
(``site/watch.html``) asks ``GET /api/watch/<token>`` for the title and the signed media links, and shows
them in the viewer's language. The token packs the job id and the expiry with an HMAC of the app's secret
over them and the job's creation time, so it is 43 characters and dies with the share links (the same
expiry) or with the job (deleted, or a later job with the same id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from backend.api.deps import ServicesDep, SignerDep, StoreDep
from backend.api.identity import UrlSigner, born
from backend.api.schemas import WatchOut
from backend.api.views import NOT_FOUND, preview_path
from backend.errors import JobNotFound
from backend.jobs import rules as jobs
from backend.jobs.db import Job
from contract.catalogue import reason

router = APIRouter(tags=["jobs"])
#: The page of a watch link (not under /api): the site's watch.html, with the app's security headers.
pages = APIRouter(include_in_schema=False)

MAC_BYTES = 12
_ID_BYTES = 16


def _mac(secret: str, raw: bytes, created: str) -> bytes:
    signed = b"vsr.watch|" + raw + created.encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).digest()[:MAC_BYTES]


def token(signer: UrlSigner, job: Job, expires: int) -> str:
    """The watch token of ``job`` until ``expires`` (a Unix time)."""
    raw = bytes.fromhex(job.id) + struct.pack(">I", expires)
    packed = raw + _mac(signer.secret, raw, born(job))
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def _unpack(value: str) -> tuple[str, int, bytes, bytes] | None:
    """(job id, expiry, the signed bytes, their MAC) of a token, or None when it is not one."""
    try:
        packed = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    # One spelling per token: the last of 43 characters carries 2 spare bits, and the decoder skips
    # characters outside the alphabet, so several strings would decode to the same bytes.
    if (
        len(packed) != _ID_BYTES + 4 + MAC_BYTES
        or base64.urlsafe_b64encode(packed).rstrip(b"=") != value.encode()
    ):
        return None
    raw, mac = packed[: _ID_BYTES + 4], packed[_ID_BYTES + 4 :]
    (expires,) = struct.unpack(">I", raw[_ID_BYTES:])
    return raw[:_ID_BYTES].hex(), expires, raw, mac


def shared_job(value: str, store: StoreDep, signer: SignerDep) -> tuple[Job, int]:
    """The done job a token names and its expiry; 404 ``auth.link_invalid`` for anything else."""
    unpacked = _unpack(value)
    job = store.get(unpacked[0]) if unpacked else None
    if (
        unpacked is None
        or job is None
        or job.status != jobs.DONE
        or unpacked[1] <= time.time()
        or not hmac.compare_digest(unpacked[3], _mac(signer.secret, unpacked[2], born(job)))
    ):
        # A tampered, expired or revoked link, a deleted job: all alike, none telling whether the job exists.
        raise JobNotFound(reason("auth.link_invalid"))
    return job, unpacked[1]


@router.get("/watch/{value}", response_model=WatchOut, responses=NOT_FOUND)
def watch(value: str, store: StoreDep, signer: SignerDep, services: ServicesDep) -> WatchOut:
    """What the watch page shows: the title and signed links to the result, its previews and cues."""
    job, expires = shared_job(value, store, signer)
    root, ttl_s = services.settings.STORAGE_ROOT, services.settings.SHARE_TTL_S
    base = f"/api/jobs/{job.id}"

    def link(path: str) -> str:
        return signer.sign(f"{base}/{path}", born(job), ttl_s, expires=expires)

    return WatchOut(
        filename=job.filename,
        width=job.output_width or 0,
        height=job.output_height or 0,
        describe=job.describe,
        result_url=link("result"),
        vtt_url=link("vtt") if job.vtt_key else None,
        preview_before_url=link("preview/before") if preview_path(root, job, "before") else None,
        preview_after_url=link("preview/after") if preview_path(root, job, "after") else None,
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def site_page(folder: Path) -> FileResponse:
    """The site's watch.html (404 when the site is not served)."""
    page = folder / "watch.html"
    if not page.is_file():
        raise JobNotFound(reason("auth.link_invalid"))
    return FileResponse(page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@pages.get("/w/{value}")
def watch_page(value: str, services: ServicesDep) -> FileResponse:
    """The watch page itself; it reads its token from its own address (a bad one shows «link expired»)."""
    del value  # checked by GET /api/watch/{token}, which the page asks
    return site_page(services.settings.SITE_DIR)
