"""Structured logging: one JSON object per line, with job ids, owners and other ``extra`` fields.

``owner`` is an extra like ``job_id``: pass it explicitly, or bind it for a stretch of work (a request,
a task) with :func:`bind_owner`, and every line logged meanwhile carries it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

#: LogRecord attributes that are not user ``extra`` fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_OWNER: ContextVar[str | None] = ContextVar("log_owner", default=None)


@contextmanager
def bind_owner(owner: str | None) -> Iterator[None]:
    """Log ``owner`` on every line of this context (a request, a task) that does not name one itself."""
    token = _OWNER.set(owner)
    try:
        yield
    finally:
        _OWNER.reset(token)


class JsonFormatter(logging.Formatter):
    """Formats records as JSON lines: ts, level, logger, msg, then any extra fields (job_id, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        owner = _OWNER.get()
        if owner is not None:
            entry.setdefault("owner", owner)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Send every logger (uvicorn's included, where present) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # pika logs every failed connect with a traceback; the services log one line instead.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
