"""Backend settings, read once from the environment at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the backend; names are the environment variables in docs/architecture.md."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    AMQP_URL: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    STORAGE_ROOT: Path = Path("./var/storage")
    DATABASE_URL: str = "sqlite:///./var/backend.db"
    MAX_UPLOAD_BYTES: int = Field(default=2 * 1024**3, gt=0)
    MAX_WIDTH: int = Field(default=3840, gt=0)
    MAX_HEIGHT: int = Field(default=2160, gt=0)
    MAX_DURATION_S: float = Field(default=7200, gt=0)
    BACKEND_PORT: int = Field(default=8008, gt=0, lt=65536)
    SITE_DIR: Path = Path("./site")
    #: Length of the segments a long upscaling job is cut into (docs/segments.md); 0 = never segment.
    SEGMENT_SECONDS: float = Field(default=10, ge=0)
