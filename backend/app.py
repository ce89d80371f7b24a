"""FastAPI application factory: API, health, metrics, background broker threads and the static page."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from contract import storage
from contract.messages import DoneEvent, FailedEvent, ProgressEvent
from contract.probe import probe as ffprobe

from . import jobs
from .api import Prober, Services, build_router
from .broker import EventConsumer, Publisher
from .db import Job, make_engine, make_sessions, migrate
from .errors import ApiError
from .metrics import Metrics
from .outbox import Outbox, TaskPublisher
from .settings import Settings
from .store import JobStore

log = logging.getLogger(__name__)


def after_segment_event(job: Job, root: Path, outbox: Outbox | None) -> None:
    """Side effects of a segmented job's change: publish its assembly, stop its other segments, tidy up."""
    if jobs.needs_publishing(job) and outbox is not None:
        outbox.wake()  # the last segment is done: the assembly task is due
    elif job.status == jobs.FAILED:
        # One segment failed for good: the others would be wasted work; the cancel marker stops them.
        marker = storage.resolve(root, storage.cancel_marker_key(job.id))
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("failed")
    elif job.status == jobs.DONE:
        shutil.rmtree(storage.resolve(root, storage.segments_dir(job.id)), ignore_errors=True)


def create_app(
    settings: Settings,
    *,
    probe: Prober = ffprobe,
    publisher: TaskPublisher | None = None,
    broker: bool = True,
    outbox_poll_s: float = 2.0,
) -> FastAPI:
    """Build the app; ``broker=False`` runs without RabbitMQ threads (jobs stay in the outbox)."""
    engine = make_engine(settings.DATABASE_URL)
    migrate(engine)
    settings.STORAGE_ROOT.mkdir(parents=True, exist_ok=True)
    store = JobStore(make_sessions(engine))
    metrics = Metrics(store.counts)
    outbox: Outbox | None = None
    consumer: EventConsumer | None = None
    if broker:
        outbox = Outbox(
            store,
            publisher or Publisher(settings.AMQP_URL),
            poll_s=outbox_poll_s,
            on_depth=metrics.queue_depth.set,
        )

        def handle(event: ProgressEvent | DoneEvent | FailedEvent) -> None:
            job = store.apply_event(event)
            if job is not None:
                metrics.events.labels(event.type).inc()
                if job.status == jobs.FAILED and isinstance(event, FailedEvent):
                    metrics.failures.inc()
                if job.tasks:
                    after_segment_event(job, settings.STORAGE_ROOT, outbox)

        consumer = EventConsumer(settings.AMQP_URL, handle)
    svc = Services(settings=settings, store=store, metrics=metrics, probe=probe, outbox=outbox)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for thread in (outbox, consumer):
            if thread is not None:
                thread.start()
        log.info("backend started", extra={"storage": str(settings.STORAGE_ROOT), "broker": broker})
        try:
            yield
        finally:
            for thread in (outbox, consumer):
                if thread is not None:
                    thread.stop()
            for thread in (outbox, consumer):
                if thread is not None and thread.is_alive():
                    await run_in_threadpool(thread.join, 10)
            engine.dispose()

    app = FastAPI(
        title="Video super-resolution",
        version="1.0",
        description="Upload a video, follow its progress, download the upscaled result.",
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.outbox = outbox
    app.state.consumer = consumer

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    app.include_router(build_router(svc))

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """Ready when the database answers and both broker connections are open."""
        checks: dict[str, Any] = {}
        try:
            store.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if outbox is None or consumer is None:
            checks["broker"] = "disabled"
        else:
            up = outbox.connected and consumer.connected
            metrics.broker_up.set(1 if up else 0)
            checks["broker"] = "ok" if up else "unreachable"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def prometheus() -> PlainTextResponse:
        """Prometheus text exposition."""
        if outbox is not None and consumer is not None:
            metrics.broker_up.set(1 if outbox.connected and consumer.connected else 0)
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    if settings.SITE_DIR.is_dir():
        app.mount("/", StaticFiles(directory=settings.SITE_DIR, html=True), name="site")
    else:
        log.warning("SITE_DIR %s does not exist; the page is not served", settings.SITE_DIR)
    return app
