"""``python -m backend``: serve the API and the page with uvicorn on BACKEND_HOST:BACKEND_PORT."""

from __future__ import annotations

import uvicorn

from backend.app import create_app
from backend.settings import Settings
from contract import logs


def main() -> None:
    """Read settings once, configure JSON logs, run uvicorn."""
    settings = Settings()
    logs.configure(settings.LOG_LEVEL)
    app = create_app(settings)
    uvicorn.run(app, host=settings.BACKEND_HOST, port=settings.BACKEND_PORT, log_config=None)


if __name__ == "__main__":
    main()
