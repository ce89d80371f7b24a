"""Adapter settings: read from the environment once at start-up, then passed down as plain values."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapter.limits import Limits
from adapter.worker.endpoint import parse_range
from adapter.worker.queue import RetryPolicy
from contract import amqp, limits


class AdapterSettings(BaseSettings):
    """Environment of one adapter process (see docs/architecture.md for the shared names)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore")

    AMQP_URL: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    STORAGE_ROOT: Path = Path("./var/storage")
    #: gRPC address of Triton; empty means run the model in-process (OpenVINO/ONNX Runtime).
    TRITON_URL: str = "127.0.0.1:8001"
    MODELS_DIR: Path = Path("./.models/onnx")
    #: auto (Triton with TRITON_URL, else PyTorch on CUDA, else ONNX), triton, torch or local.
    INFERENCE_BACKEND: str = "auto"
    #: In-process (local) models: auto (bf16 on native-bf16 CPUs, else int8 where its gate passed, else
    #: f32), f32, bf16 or int8 (contract/precision.py). Triton models take theirs from the repository.
    INFERENCE_PRECISION: Literal["auto", "f32", "bf16", "int8"] = "auto"
    MAX_WIDTH: int = Field(default=limits.MAX_WIDTH, gt=0)
    MAX_HEIGHT: int = Field(default=limits.MAX_HEIGHT, gt=0)
    MAX_DURATION_S: float = Field(default=limits.MAX_DURATION_S, gt=0)
    INFERENCE_TIMEOUT_S: float = Field(default=limits.INFERENCE_TIMEOUT_S, gt=0)
    ADAPTER_METRICS_PORT: int = Field(default=9108, ge=0, le=65535)
    #: Address the metrics server listens on ("" = every interface; 127.0.0.1 with host networking).
    ADAPTER_METRICS_HOST: str = ""
    #: "LOW-HIGH": take the first free port of this range instead (host networking, several replicas).
    ADAPTER_METRICS_PORTS: str = ""
    #: Where the port taken is written (the container's health check reads it).
    ADAPTER_PORT_FILE: Path | None = None
    #: Prometheus file_sd folder: each adapter writes its target there (docs/deploy.md).
    ADAPTER_TARGETS_DIR: Path | None = None
    #: A logging level name (DEBUG, INFO, WARNING, ERROR).
    LOG_LEVEL: str = "INFO"
    #: Minimum seconds between two progress events of one job.
    PROGRESS_INTERVAL_S: float = Field(default=1.0, ge=0)
    #: Seconds between two looks at the job's cancel marker.
    CANCEL_POLL_S: float = Field(default=1.0, gt=0)
    #: On SIGTERM, seconds the current job may keep running before it is handed back to the queue.
    SHUTDOWN_GRACE_S: float = Field(default=20.0, ge=0)
    #: AMQP heartbeat; the pipeline runs off the connection thread so heartbeats keep flowing.
    AMQP_HEARTBEAT_S: int = Field(default=amqp.HEARTBEAT_S, ge=0)
    #: Reconnect backoff bounds after the broker connection is lost.
    RECONNECT_MIN_S: float = Field(default=amqp.RECONNECT_MIN_S, gt=0)
    RECONNECT_MAX_S: float = Field(default=amqp.RECONNECT_MAX_S, gt=0)
    #: Attempts of one task before a transient failure fails its job (docs/operations.md "Retries").
    TASK_ATTEMPTS: int = Field(default=limits.TASK_ATTEMPTS, ge=1)
    #: Bounds of the jittered retry backoff; each delay is fitted to a retry queue (2 s … 256 s).
    RETRY_MIN_S: float = Field(default=limits.RETRY_MIN_S, gt=0)
    RETRY_MAX_S: float = Field(default=limits.RETRY_MAX_S, gt=0)
    #: Wall-clock seconds a task waits for an unavailable model server before its job fails.
    INFRA_BUDGET_S: float = Field(default=limits.INFRA_BUDGET_S, gt=0)
    #: Audio description (docs/description.md): the detector built by
    #: ``adapter.description.setup.fetch_models``.
    DESCRIPTION_DETECTOR_ONNX: Path = Path("./.models/description/centernet.onnx")
    #: Optional captioning model (input ``image`` uint8 [1,H,W,3], output string [1]); replaces the detector.
    DESCRIPTION_CAPTIONER_ONNX: Path | None = None
    #: Detections below this confidence are not mentioned.
    DESCRIPTION_MIN_SCORE: float = Field(default=0.3, gt=0, lt=1)
    #: Test-only floor on each frame's upscaling time (adapter/inference/throttle.py); 0 in production.
    TEST_FRAME_DELAY_MS: float = Field(default=0, ge=0)
    #: Region inference (``regions=auto`` jobs): a full frame at least this often, in seconds.
    REGIONS_REFRESH_S: float = Field(default=2.0, gt=0)
    #: Damaged input (docs/pipeline.md): a job fails when more than this share of its pictures is lost.
    DAMAGE_MAX_SHARE: float = Field(default=0.2, ge=0, le=1)

    @property
    def triton_url(self) -> str | None:
        """Triton address, or None for the in-process backend."""
        return self.TRITON_URL.strip() or None

    def metrics_ports(self) -> int | range:
        """The metrics port, or the range to take one from."""
        return parse_range(self.ADAPTER_METRICS_PORTS) if self.ADAPTER_METRICS_PORTS.strip() else (
            self.ADAPTER_METRICS_PORT
        )

    @classmethod
    def defaults(cls) -> AdapterSettings:
        """The documented defaults, without reading the environment."""
        return cls.model_construct()

    def retry_policy(self) -> RetryPolicy:
        """How the worker retries transient failures."""
        return RetryPolicy(
            attempts=self.TASK_ATTEMPTS,
            min_s=self.RETRY_MIN_S,
            max_s=max(self.RETRY_MIN_S, self.RETRY_MAX_S),
            infra_budget_s=self.INFRA_BUDGET_S,
        )

    @property
    def uses_triton(self) -> bool:
        """Whether inference runs on Triton (the backend make_upscaler picks for these settings)."""
        return self.triton_url is not None and self.INFERENCE_BACKEND in ("auto", "triton")

    def job_limits(self) -> Limits:
        """The job limits these settings configure (the rest keep their contract defaults)."""
        return Limits(
            max_width=self.MAX_WIDTH,
            max_height=self.MAX_HEIGHT,
            max_duration_s=self.MAX_DURATION_S,
            inference_timeout_s=self.INFERENCE_TIMEOUT_S,
            regions_refresh_s=self.REGIONS_REFRESH_S,
            max_damaged_share=self.DAMAGE_MAX_SHARE,
        )
