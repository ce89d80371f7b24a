"""``python -m backend``: serve the API and the page with uvicorn on BACKEND_PORT."""

from __future__ import annotations

import os

import uvicorn

from contract import logs

from .app import create_app
from .settings import Settings


def main() -> None:
    """Read settings once, configure JSON logs, run uvicorn."""
    logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
    settings = Settings()
    app = create_app(settings)
    host = os.environ.get("BACKEND_HOST", "0.0.0.0")
    uvicorn.run(app, host=host, port=settings.BACKEND_PORT, log_config=None)


if __name__ == "__main__":
    main()
