"""``GET /api/usage``: the caller's storage use and active jobs against their quotas (docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from backend.api.deps import OwnerDep, ServicesDep
from backend.api.schemas import UsageOut
from backend.intake import quotas
from backend.jobs import rules as jobs

router = APIRouter(tags=["jobs"])


@router.get("/usage", response_model=UsageOut)
async def get_usage(services: ServicesDep, caller: OwnerDep) -> UsageOut:
    """Bytes stored and reserved by the caller, active jobs; quotas are 0 for operators (exempt)."""
    store, settings = services.store, services.settings
    owned = await run_in_threadpool(store.owned, caller.owner)
    ids = [job_id for job_id, _status in owned]
    used = await run_in_threadpool(quotas.stored_bytes, settings.STORAGE_ROOT, ids)
    ledger = services.ledger
    reserved = 0 if ledger is None else await run_in_threadpool(ledger.reserved, caller.owner)
    return UsageOut(
        stored_bytes=used + reserved,
        reserved_bytes=reserved,
        quota_bytes=0 if caller.operator else settings.QUOTA_STORAGE_BYTES,
        active_jobs=sum(1 for _id, status in owned if status in jobs.ACTIVE),
        active_jobs_limit=0 if caller.operator else settings.QUOTA_ACTIVE_JOBS,
        jobs=len(owned),
        retention_s=settings.RETENTION_S,
    )
