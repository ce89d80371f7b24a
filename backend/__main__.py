"""``python -m backend``: serve the API and the page with uvicorn on BACKEND_HOST:BACKEND_PORT."""

from __future__ import annotations

import uvicorn

from backend.api.serving import config
from backend.app import create_app
from backend.settings import Settings
from contract import logs


def main() -> None:
    """Read settings once, configure JSON logs, run uvicorn (backend.api.serving's configuration)."""
    settings = Settings()
    logs.configure(settings.LOG_LEVEL)
    app = create_app(settings)
    uvicorn.Server(config(app, settings)).run()


if __name__ == "__main__":
    main()
