"""Wiring of ``python -m adapter worker``: settings once, upscaler and model check, then the worker."""

from __future__ import annotations

import functools
import logging
import signal
import sys
from types import FrameType

from adapter.description import build_describer, describe
from adapter.errors import InferenceUnavailableError, ModelContractError, ModelUnavailableError
from adapter.inference.throttle import Throttled, block_flag
from adapter.inference.upscalers import make_upscaler
from adapter.job import Stages
from adapter.settings import AdapterSettings
from adapter.video import pipeline
from adapter.video.assembly import assemble
from adapter.worker.consumer import Worker, WorkerConfig
from adapter.worker.endpoint import announce, withdraw
from adapter.worker.health import AlwaysReady, ModelHealth, TritonHealth
from adapter.worker.metrics import Metrics
from contract import logs
from contract.messages import DEFAULT_MODEL

log = logging.getLogger("adapter")


def build_worker(settings: AdapterSettings, metrics: Metrics | None = None) -> Worker:
    """Build a worker from settings; the default model is loaded and checked against its contract."""
    stages = Stages(
        run_pipeline=pipeline.run,
        assemble=assemble,
        make_upscaler=Throttled(
            functools.partial(
                make_upscaler,
                triton_url=settings.triton_url,
                models_dir=settings.MODELS_DIR,
                timeout_s=settings.INFERENCE_TIMEOUT_S,
                backend=settings.INFERENCE_BACKEND,
                precision=settings.INFERENCE_PRECISION,
            ),
            settings.TEST_FRAME_DELAY_MS,
            block_flag(settings.STORAGE_ROOT),
        ),
        describe=describe,
        make_describer=functools.partial(
            build_describer,
            settings.DESCRIPTION_DETECTOR_ONNX,
            settings.DESCRIPTION_CAPTIONER_ONNX,
            settings.DESCRIPTION_MIN_SCORE,
        ),
    )
    config = WorkerConfig.from_settings(settings)
    health: ModelHealth = AlwaysReady()
    if settings.uses_triton and settings.triton_url is not None:
        health = TritonHealth(settings.triton_url, DEFAULT_MODEL)
    worker = Worker(config, stages, metrics, health)
    # Fail at start-up, not on the first job, when the model is missing or breaks its contract; a model
    # server that is down is waited for instead (the worker consumes only once it is ready).
    try:
        worker.preload(DEFAULT_MODEL)
    except ModelUnavailableError as exc:
        log.warning("model server unavailable at start (%s); waiting for it", exc)
    if settings.DESCRIPTION_CAPTIONER_ONNX is None and not settings.DESCRIPTION_DETECTOR_ONNX.is_file():
        # Not fatal: upscaling works without it; description jobs fail (retried) with the reason.
        log.warning(
            "audio description unavailable: %s is missing (python -m adapter.description.setup.fetch_models)",
            settings.DESCRIPTION_DETECTOR_ONNX,
        )
    return worker


def main(argv: list[str] | None = None) -> int:
    """Run the worker until SIGTERM/SIGINT; a second signal stops the current job at once."""
    settings = AdapterSettings()
    logs.configure(settings.LOG_LEVEL)  # JSON lines with job ids, the same format as the backend's
    metrics = Metrics()
    try:
        worker = build_worker(settings, metrics)
    except (ModelContractError, InferenceUnavailableError) as exc:
        print(f"adapter: {exc}", file=sys.stderr)
        return 2
    server = metrics.serve(settings.metrics_ports(), worker.ready, settings.ADAPTER_METRICS_HOST)
    target = None
    if server is not None:
        target = announce(server.server_address[1], settings.ADAPTER_PORT_FILE, settings.ADAPTER_TARGETS_DIR)
    signals = 0

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal signals
        signals += 1
        log.info("%s: %s", signal.Signals(signum).name, "stopping" if signals == 1 else "stopping now")
        worker.stop(None if signals == 1 else 0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        worker.serve()
    finally:
        withdraw(target)
    return 0
