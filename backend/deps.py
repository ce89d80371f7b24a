"""FastAPI dependencies of the routes as typed aliases (``StoreDep``, ``JobDep``...) over ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from contract.catalogue import reason

from .db import Job
from .errors import JobNotFound
from .services import Services
from .settings import Settings
from .store import JobStore


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


def get_job(job_id: str, store: StoreDep) -> Job:
    """The job named in the path, or 404."""
    job = store.get(job_id) if len(job_id) == 32 else None
    if job is None:
        raise JobNotFound(reason("http.job_not_found"))
    return job


JobDep = Annotated[Job, Depends(get_job)]
