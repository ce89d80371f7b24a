"""Owner sessions (docs/api.md "Identity"): renew one's own cookie, or an operator revokes an owner's."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import OwnerDep, SettingsDep
from backend.api.identity import Auth
from backend.api.security import COOKIE_MAX_AGE_S
from backend.api.sessions import Revocations
from backend.errors import JobNotFound
from contract.catalogue import reason

router = APIRouter(tags=["identity"])


@router.post("/session/renew", status_code=204)
async def renew(request: Request, caller: OwnerDep, settings: SettingsDep) -> Response:
    """A fresh cookie for the same owner; every copy of the old one (a leaked one too) stops working."""
    if caller.by_token:
        raise JobNotFound(reason("http.not_found"))  # a token's sessions are the platform's to end
    revocations: Revocations = request.app.state.revocations
    auth: Auth = request.app.state.auth
    await run_in_threadpool(revocations.revoke, caller.owner)
    response = Response(status_code=204)
    response.set_cookie(
        settings.OWNER_COOKIE, auth.cookie_for(caller.owner), max_age=COOKIE_MAX_AGE_S,
        httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )
    return response


@router.post("/owners/{owner}/revoke", status_code=204)
async def revoke(owner: str, request: Request, caller: OwnerDep) -> Response:
    """Operators: every cookie of ``owner`` issued so far stops working (its jobs stay, for operators)."""
    if not caller.operator:
        raise JobNotFound(reason("http.not_found"))
    revocations: Revocations = request.app.state.revocations
    await run_in_threadpool(revocations.revoke, owner[:128])
    return Response(status_code=204)
