"""HTTP middleware of identities: who is calling, the owner cookie, the CSRF check, security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from backend.api.identity import Auth, Identified
from backend.api.problems import problem
from backend.settings import Settings
from contract.catalogue import reason
from contract.logs import bind_owner

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Probes and scrapes: no owner, no cookie (the ops token, not identity, guards /metrics: ops.GUARDED_PATHS).
ANONYMOUS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: FastAPI's interactive docs load Swagger/ReDoc with inline script; the page's policy would break them.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
#: A year: the anonymous owner is the browser; losing the cookie loses the jobs.
COOKIE_MAX_AGE_S = 365 * 24 * 3600


def content_security_policy(settings: Settings) -> str:
    """The page's CSP: scripts and everything else from here only; embedding only by the listed origins."""
    ancestors = " ".join(["'self'", *settings.EMBED_ORIGINS.split()])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        f"form-action 'self'; frame-ancestors {ancestors}"
    )


def foreign_origin(request: Request) -> bool:
    """A browser's cross-site request: its ``Origin`` (or else ``Referer``) is not this host (``null`` is).

    A request with neither header comes from a script (curl), which no browser sends cross-site.
    """
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return False
        origin = referer
    if origin.strip() == "null":
        return True
    parts = urlsplit(origin)
    return not parts.scheme or parts.netloc.lower() != request.headers.get("host", "").lower()


def install_security(app: FastAPI, auth: Auth) -> None:
    """Identify every request, refuse cross-site state changes made with the cookie, and add the headers."""
    settings = auth.settings
    csp = content_security_policy(settings)

    @app.middleware("http")
    async def _security(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path in ANONYMOUS_PATHS:
            return await call_next(request)
        # Off the event loop: a cookie's session is looked up in the database (backend.api.sessions).
        identified: Identified = await run_in_threadpool(auth.identify, request)
        request.state.identified = identified
        caller = identified.caller
        by_cookie = caller is not None and not caller.by_token
        if by_cookie and request.method not in SAFE_METHODS and foreign_origin(request):
            response: Response = problem(reason("auth.foreign_origin"), 403)
        else:
            with bind_owner(caller.owner if caller is not None else None):
                response = await call_next(request)
        if identified.new_cookie is not None:
            response.set_cookie(
                settings.OWNER_COOKIE,
                identified.new_cookie,
                max_age=COOKIE_MAX_AGE_S,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        if request.url.path not in DOCS_PATHS:
            response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Signed media URLs carry their signature in the query: never send it to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
