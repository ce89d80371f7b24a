"""How uvicorn serves the app: the one configuration ``python -m backend`` and the tests both use."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from backend.settings import Settings


def config(app: FastAPI, settings: Settings, **overrides: object) -> uvicorn.Config:
    """uvicorn's configuration: its proxy handling off (``backend.api.addresses`` decides the client
    address)."""
    options: dict[str, object] = {
        "host": settings.BACKEND_HOST,
        "port": settings.BACKEND_PORT,
        "log_config": None,
        # Off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (its default) before the
        # app sees the request. TRUSTED_PROXIES is applied once, by backend.api.addresses.ClientAddress.
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "server_header": False,
        **overrides,
    }
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]
