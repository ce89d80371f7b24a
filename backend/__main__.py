"""``python -m backend``: serve the API and the page with uvicorn on BACKEND_HOST:BACKEND_PORT."""

from __future__ import annotations

import uvicorn

from contract import logs

from .app import create_app
from .serving import config
from .settings import Settings


def main() -> None:
    """Read settings once, configure JSON logs, run uvicorn (backend.serving's configuration)."""
    settings = Settings()
    logs.configure(settings.LOG_LEVEL)
    app = create_app(settings)
    uvicorn.Server(config(app, settings)).run()


if __name__ == "__main__":
    main()
