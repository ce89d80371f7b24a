"""FastAPI application factory: API, health, metrics, background broker threads and the static page."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from backend.api.addresses import ClientAddress
from backend.api.identity import Auth, UrlSigner, load_ops_token, load_secret
from backend.api.ops import OpsTokenGuard, model_server
from backend.api.problems import install_error_handlers
from backend.api.routes import pages, router
from backend.api.security import install_security
from backend.api.services import Prober, Services
from backend.api.sessions import Revocations
from backend.dispatch.broker import EventConsumer, EventHandler, Publisher
from backend.dispatch.outbox import Outbox, TaskPublisher
from backend.intake import quotas
from backend.intake.ledger import Ledger
from backend.janitor.leases import Leases
from backend.janitor.records import JobRecords
from backend.janitor.thread import Janitor, standard_sweeps
from backend.jobs import cancels
from backend.jobs import rules as jobs
from backend.jobs.db import Job, make_engine, make_sessions, migrate
from backend.jobs.store import JobStore
from backend.metrics import Metrics
from backend.settings import Settings
from contract import storage, topology
from contract.messages import AnyEvent, FailedEvent, RetryEvent
from contract.probe import probe as ffprobe

log = logging.getLogger(__name__)


def after_segment_event(job: Job, root: Path, outbox: Outbox | None) -> None:
    """Side effects of a segmented job's change: publish its assembly, stop its other segments, tidy up."""
    if jobs.needs_publishing(job) and outbox is not None:
        outbox.wake()  # the last segment is done: the assembly task is due
    elif job.status == jobs.FAILED:
        # One segment failed for good: the others would be wasted work; the cancel marker stops them.
        cancels.write_marker(root, job.id)
    elif job.status == jobs.DONE:
        shutil.rmtree(storage.resolve(root, storage.segments_dir(job.id)), ignore_errors=True)


def _event_handler(store: JobStore, metrics: Metrics, root: Path, outbox: Outbox) -> EventHandler:
    """Apply one adapter event, count it, and run a segmented job's side effects."""

    def handle(event: AnyEvent) -> None:
        if isinstance(event, RetryEvent):
            _, changed = store.update(event.job_id, lambda job: jobs.apply_retry(job, event))
            if changed:
                metrics.events.labels(event.type).inc()
            return
        job = store.apply_event(event)
        if job is not None:
            outbox.wake()  # an adapter took or finished a task: the fair queue may have room
            metrics.events.labels(event.type).inc()
            if job.status == jobs.FAILED and isinstance(event, FailedEvent):
                metrics.failures.inc()
            if job.tasks:
                after_segment_event(job, root, outbox)

    return handle


def _depth_recorder(publisher: TaskPublisher, metrics: Metrics) -> Callable[[int], None]:
    """Record the task queue's depth, and the dead-letter queue's when the publisher is the real broker."""

    def record(depth: int) -> None:
        metrics.queue_depth.set(depth)
        if isinstance(publisher, Publisher):  # runs in the outbox thread, which owns this connection
            metrics.dead_depth.set(publisher.queue_depth(topology.DEAD_QUEUE))

    return record


def _janitor(settings: Settings, engine: Engine, store: JobStore, metrics: Metrics) -> Janitor | None:
    """The janitor thread with the backend's sweeps (None when JANITOR_INTERVAL_S is 0)."""
    if not settings.JANITOR_INTERVAL_S:
        return None
    sessions = make_sessions(engine)
    ledger = Ledger(sessions, lambda ids: quotas.stored_bytes(settings.STORAGE_ROOT, ids))
    return Janitor(
        Leases(sessions),
        standard_sweeps(settings, store, JobRecords(sessions), metrics, ledger),
        metrics,
        interval_s=settings.JANITOR_INTERVAL_S,
        lease_s=settings.JANITOR_LEASE_S,
    )


def _lifespan(
    settings: Settings, engine: Engine, threads: list[Outbox | EventConsumer | Janitor]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the broker threads with the app; stop them and close the database with it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for thread in threads:
            thread.start()
        log.info("backend started", extra={"storage": str(settings.STORAGE_ROOT), "broker": bool(threads)})
        try:
            yield
        finally:
            for thread in threads:
                thread.stop()
            for thread in threads:
                if thread.is_alive():
                    await run_in_threadpool(thread.join, 10)
            engine.dispose()

    return lifespan


def _ops_routes(
    app: FastAPI,
    store: JobStore,
    metrics: Metrics,
    broker: Outbox | None,
    events: EventConsumer | None,
    model_ready_url: str = "",
) -> None:
    """/healthz, /readyz and /metrics."""

    def broker_up() -> bool | None:
        if broker is None or events is None:
            return None
        up = broker.connected and events.connected
        metrics.broker_up.set(1 if up else 0)
        return up

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz(serving: bool = False) -> JSONResponse:
        """Ready when the database answers, both broker connections are open and the model server is.

        ``?serving=true`` still reports the model but answers 200 without it: the probe that routes
        users to this replica, which accepts uploads (they wait) while the model server is down.
        """
        checks: dict[str, Any] = {}
        try:
            store.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        up = broker_up()
        checks["broker"] = "disabled" if up is None else "ok" if up else "unreachable"
        if model_ready_url:
            checks["model"] = model_server(model_ready_url)
        ready = all(value == "ok" for value in checks.values())
        serves = all(value in ("ok", "disabled") for name, value in checks.items() if name != "model")
        return JSONResponse(
            {"ready": ready, **checks}, status_code=200 if ready or (serving and serves) else 503
        )

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def prometheus() -> PlainTextResponse:
        """Prometheus text exposition."""
        broker_up()
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


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
        sender = publisher or Publisher(settings.AMQP_URL)
        outbox = Outbox(
            store,
            sender,
            poll_s=outbox_poll_s,
            on_depth=_depth_recorder(sender, metrics),
            fair=settings.FAIR_QUEUE,
            weights=settings.fair_weights(),
            on_waiting=metrics.tasks_waiting.set,
        )
        handle = _event_handler(store, metrics, settings.STORAGE_ROOT, outbox)
        consumer = EventConsumer(settings.AMQP_URL, handle)
    janitor = _janitor(settings, engine, store, metrics)
    threads: list[Outbox | EventConsumer | Janitor] = [
        t for t in (outbox, consumer, janitor) if t is not None
    ]
    app = FastAPI(
        title="Video super-resolution",
        version="1.0",
        description="Upload a video, follow its progress, download the upscaled result.",
        lifespan=_lifespan(settings, engine, threads),
        docs_url="/docs" if settings.OPS_DOCS else None,
        redoc_url="/redoc" if settings.OPS_DOCS else None,
        openapi_url="/openapi.json" if settings.OPS_DOCS else None,
    )
    # Always guarded: without OPS_TOKEN a token is generated under RUN_DIR (docs/operations.md).
    app.add_middleware(OpsTokenGuard, token=load_ops_token(settings))
    sessions = make_sessions(engine)
    ledger = Ledger(sessions, lambda ids: quotas.stored_bytes(settings.STORAGE_ROOT, ids))
    app.state.services = Services(
        settings=settings, store=store, metrics=metrics, probe=probe, outbox=outbox,
        ledger=ledger, leases=Leases(sessions),
    )
    app.state.outbox = outbox
    secret = load_secret(settings)
    app.state.signer = UrlSigner(secret)
    revocations = Revocations(sessions)
    app.state.revocations = revocations
    app.state.auth = Auth(settings, secret, revocations.revoked_at)
    install_security(app, app.state.auth)
    app.state.consumer = consumer
    app.state.janitor = janitor
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(pages)  # the watch page of a share link, before the site's static files
    _ops_routes(app, store, metrics, outbox, consumer, settings.MODEL_READY_URL.strip())
    if settings.SITE_DIR.is_dir():
        app.mount("/", StaticFiles(directory=settings.SITE_DIR, html=True), name="site")
    else:
        log.warning("SITE_DIR %s does not exist; the page is not served", settings.SITE_DIR)
    # Outermost: every other layer (quotas, logs, uvicorn's access log) sees the address decided here.
    app.add_middleware(ClientAddress, trusted_proxies=settings.TRUSTED_PROXIES)
    return app
