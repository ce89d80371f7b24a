"""FastAPI dependencies of the routes as typed aliases (``StoreDep``, ``OwnerDep``, ``JobDep``...).

Every job route reaches its job through ``JobDep`` (or ``MediaJobDep`` for files), which scopes it to the
caller: another owner's job is the same 404 as a job that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from backend.api.identity import Caller, Identified, UrlSigner, born
from backend.api.services import Services
from backend.api.views import QueueBoard, Viewer, queue_places
from backend.dispatch.broker import QueueState
from backend.dispatch.outbox import Outbox
from backend.errors import JobNotFound, Unauthorized
from backend.jobs.db import Job
from backend.jobs.store import JobStore
from backend.settings import Settings
from contract.catalogue import reason


def get_services(request: Request) -> Services:
    """The app's collaborators."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    """The app's settings."""
    return services.settings


def get_store(services: ServicesDep) -> JobStore:
    """The jobs database."""
    return services.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]


def get_signer(request: Request) -> UrlSigner:
    """Signs and checks media URLs and share links."""
    signer: UrlSigner = request.app.state.signer
    return signer


SignerDep = Annotated[UrlSigner, Depends(get_signer)]


def get_caller(request: Request) -> Caller:
    """Who is calling (``backend.api.security`` identified the request), or 401 with the reason."""
    identified: Identified = request.state.identified
    if identified.caller is None:
        raise Unauthorized(identified.refusal or reason("auth.token_missing"))
    return identified.caller


OwnerDep = Annotated[Caller, Depends(get_caller)]


def _not_found() -> JobNotFound:
    return JobNotFound(reason("http.job_not_found"))


def _lookup(job_id: str, store: JobStore) -> Job | None:
    return store.get(job_id) if len(job_id) == 32 else None


def get_job(job_id: str, store: StoreDep, caller: OwnerDep) -> Job:
    """The caller's job named in the path, or 404 (also when it is someone else's)."""
    job = _lookup(job_id, store)
    if job is None or not caller.may_see(job.owner):
        raise _not_found()
    return job


JobDep = Annotated[Job, Depends(get_job)]


def get_media_job(
    job_id: str,
    request: Request,
    store: StoreDep,
    signer: SignerDep,
    exp: Annotated[int | None, Query(include_in_schema=False)] = None,
    sig: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Job:
    """The job behind a file route: by a signed URL (media or share link) when given, else as ``JobDep``."""
    if sig is None or exp is None:
        return get_job(job_id, store, get_caller(request))
    job = _lookup(job_id, store)
    if job is None or not signer.check(request.url.path, born(job), exp, sig):
        # A deleted job, a tampered or expired link: all alike, none telling whether the job exists.
        raise JobNotFound(reason("auth.link_invalid"))
    return job


MediaJobDep = Annotated[Job, Depends(get_media_job)]


def get_viewer(request: Request, settings: SettingsDep, signer: SignerDep, store: StoreDep) -> Viewer:
    """Shows jobs as JSON; in integrated mode their file URLs are signed (media elements send no header)."""
    integrated = settings.AUTH_MODE == "integrated"
    board = QueueBoard(queue_places(store, settings.fair_weights(), queue_seen(request)))
    return Viewer(
        settings.STORAGE_ROOT,
        signer if integrated else None,
        settings.MEDIA_URL_TTL_S,
        queue=board,
        retention_s=settings.RETENTION_S,
    )


def queue_seen(request: Request) -> Callable[[], QueueState | None]:
    """The task queue (ready messages, consumers) as the outbox last saw it; None without a broker."""
    outbox: Outbox | None = request.app.state.outbox
    return lambda: outbox.seen if outbox is not None else None


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
