"""Every HTTP error reply as ``{"detail": English sentence, "code": catalogue code, "params": {...}}``.

Our own ``ApiError``s carry their Reason; FastAPI's validation errors and Starlette's HTTP errors
(unknown paths, wrong methods, unsatisfiable ranges) are mapped to ``http.*`` codes here, and so is a
storage write of any request refused by a full volume (507 ``http.disk_full``, never a 500).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from backend.errors import ApiError, is_disk_full
from contract.catalogue import Reason, reason

log = logging.getLogger(__name__)


def problem(why: Reason, status_code: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error reply for ``why``."""
    body = {"detail": why.text("en"), "code": why.code, "params": dict(why.params)}
    return JSONResponse(body, status_code=status_code, headers=headers)


def invalid_fields(exc: RequestValidationError) -> Reason:
    """``http.invalid_request`` naming the fields that failed (``path.which``, ``query.download``)."""
    names = [".".join(str(part) for part in error.get("loc", ())) for error in exc.errors()]
    return reason("http.invalid_request", fields=", ".join(dict.fromkeys(n for n in names if n)) or "request")


def http_reason(status_code: int) -> Reason:
    """The generic reason of a Starlette HTTP error."""
    if status_code == 404:
        return reason("http.not_found")
    if status_code == 405:
        return reason("http.method_not_allowed")
    return reason("http.failed", status=status_code)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error reply a code."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.reason, exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(invalid_fields(exc), 422)

    async def _disk_full(_request: Request, exc: Exception) -> JSONResponse:
        if not is_disk_full(exc):
            raise exc  # a real server error: the 500 handler logs it
        log.warning("storage full: %s", exc, extra={"status": 507})
        return problem(reason("http.disk_full"), 507)

    app.add_exception_handler(OSError, _disk_full)
    app.add_exception_handler(OperationalError, _disk_full)

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return problem(http_reason(exc.status_code), exc.status_code, exc.headers)
