"""Backend settings, read once from the environment at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contract import limits


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not installed)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Settings(BaseSettings):
    """Every knob of the backend; names are the environment variables in docs/architecture.md."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    AMQP_URL: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    STORAGE_ROOT: Path = Path("./var/storage")
    #: ``postgresql://`` URLs are normalised to the psycopg 3 driver.
    DATABASE_URL: str = "sqlite:///./var/backend.db"
    MAX_UPLOAD_BYTES: int = Field(default=2 * 1024**3, gt=0)
    MAX_WIDTH: int = Field(default=limits.MAX_WIDTH, gt=0)
    MAX_HEIGHT: int = Field(default=limits.MAX_HEIGHT, gt=0)
    MAX_DURATION_S: float = Field(default=limits.MAX_DURATION_S, gt=0)
    BACKEND_HOST: str = "0.0.0.0"
    BACKEND_PORT: int = Field(default=8008, gt=0, lt=65536)
    #: A logging level name (DEBUG, INFO, WARNING, ERROR).
    LOG_LEVEL: str = "INFO"
    SITE_DIR: Path = Path("./site")
    #: Length of the segments a long upscaling job is cut into (docs/segments.md); 0 = never segment.
    SEGMENT_SECONDS: float = Field(default=10, ge=0)

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())
