"""Backend settings, read once from the environment at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
    #: Run-time folder of this host (the generated signing secret lives here when SECRET_KEY is unset).
    RUN_DIR: Path = Path("./var")
    #: ``standalone``: an anonymous owner per browser (signed cookie); ``integrated``: a platform JWT.
    AUTH_MODE: Literal["standalone", "integrated"] = "standalone"
    #: Signs owner cookies and media/share URLs; every backend replica needs the same one (docs/deploy.md).
    SECRET_KEY: str = ""
    #: JWT verification key: the HS256 secret, or an RS256/ES256 public key in PEM.
    JWT_KEY: str = ""
    #: Comma-separated accepted JWT algorithms (``none`` is never accepted).
    JWT_ALGORITHMS: str = "HS256"
    JWT_ISSUER: str = ""
    JWT_AUDIENCE: str = ""
    #: The claim that holds the caller's role(s), and the role that may see and manage every job.
    JWT_ROLE_CLAIM: str = "role"
    OPERATOR_ROLE: str = "operator"
    OWNER_COOKIE: str = "vsr_owner"
    #: Lifetime of the signed media URLs the API hands out in integrated mode.
    MEDIA_URL_TTL_S: int = Field(default=3600, gt=0)
    #: Lifetime of a share link (POST /api/jobs/{id}/share).
    SHARE_TTL_S: int = Field(default=7 * 24 * 3600, gt=0)
    #: Space-separated origins that may embed the page (CSP frame-ancestors) and post it a JWT.
    EMBED_ORIGINS: str = ""
    #: /metrics, /docs, /redoc and /openapi.json need ``Authorization: Bearer <OPS_TOKEN>``; unset, a token
    #: is generated once in ``RUN_DIR/ops_token`` (mode 0600) and that one is needed: never open.
    OPS_TOKEN: str = ""
    #: ``false`` serves no API docs at all (/docs, /redoc, /openapi.json answer 404).
    OPS_DOCS: bool = True
    #: Quotas per owner (docs/deploy.md "Quotas"); 0 turns a limit off. Operators are exempt.
    QUOTA_ACTIVE_JOBS: int = Field(default=5, ge=0)
    #: Bytes on disk of all the owner's jobs (inputs, results, previews, cues).
    QUOTA_STORAGE_BYTES: int = Field(default=20 * 1024**3, ge=0)
    QUOTA_UPLOADS_PER_HOUR: int = Field(default=20, ge=0)
    #: Anonymous (cookie) owners only: uploads per hour from one client address, whatever the cookie.
    QUOTA_ADDRESS_UPLOADS_PER_HOUR: int = Field(default=30, ge=0)
    #: The Retry-After of an "active jobs" refusal: a guess of when one of them ends.
    QUOTA_ACTIVE_RETRY_S: int = Field(default=60, gt=0)
    #: The model server's readiness URL (Triton: ``http://host:8000/v2/health/ready``); /readyz answers 503
    #: while it does not answer 200 within a second. Empty: not checked.
    MODEL_READY_URL: str = ""
    #: Space- or comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed.
    TRUSTED_PROXIES: str = ""
    # ---- the janitor (docs/operations.md "Janitor") -------------------------------------------------
    #: Seconds between two janitor passes; 0 turns the janitor off.
    JANITOR_INTERVAL_S: float = Field(default=60, ge=0)
    #: How long the leader's lease lasts unrenewed: another backend takes over this long after it dies.
    JANITOR_LEASE_S: float = Field(default=180, gt=0)
    #: A job folder with only an upload and no job row, untouched this long, is a dead upload.
    UPLOAD_GRACE_S: float = Field(default=3600, ge=0)
    #: A resumable (tus) upload nobody added a byte to this long is removed (the creator starts it again).
    RESUMABLE_EXPIRY_S: float = Field(default=24 * 3600, ge=0)
    #: An adapter's temporary (``.*.part*``) untouched this long, of a job not running, is dead...
    TEMP_GRACE_S: float = Field(default=3600, ge=0)
    #: ...and one untouched this long is dead whatever its job does.
    TEMP_MAX_AGE_S: float = Field(default=24 * 3600, ge=0)
    #: A job folder with no job row, untouched this long, is removed.
    ORPHAN_GRACE_S: float = Field(default=6 * 3600, ge=0)
    #: Finished jobs (files and row) are deleted this long after they end; 0 keeps them forever.
    RETENTION_S: float = Field(default=7 * 24 * 3600, ge=0)
    #: A published or running job with no progress this long is stuck: re-published once, then failed.
    STUCK_AFTER_S: float = Field(default=30 * 60, gt=0)

    #: The fair queue (docs/operations.md "Fair queue"): owners take turns and only about as many tasks as
    #: there are adapters wait in RabbitMQ; ``false`` publishes every task at once, in arrival order.
    FAIR_QUEUE: bool = True
    #: Operators' weights, ``owner=N,owner=M`` (N turns each round; everyone else 1).
    FAIR_WEIGHTS: str = ""

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())

    @field_validator("SECRET_KEY", "OPS_TOKEN")
    @classmethod
    def _no_placeholder(cls, value: str) -> str:
        # .env.example's values are public: a backend started on one would sign with a known key.
        if value.strip().lower().startswith(PLACEHOLDER):
            raise ValueError("is the .env.example placeholder: make one with openssl rand -base64 48")
        return value

    @field_validator("JWT_ALGORITHMS")
    @classmethod
    def _one_family(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        families = {jwt_family(name) for name in names}
        if len(families) > 1:
            # One JWT_KEY serves one family: an RSA public key accepted as an HMAC secret forges tokens.
            kinds = sorted(families)
            raise ValueError(f"mixes algorithm families {kinds}: keep one (HS*, RS*/PS*, ES* or EdDSA)")
        return value

    @field_validator("FAIR_WEIGHTS")
    @classmethod
    def _fair_weights(cls, value: str) -> str:
        parse_weights(value)
        return value

    def fair_weights(self) -> dict[str, int]:
        """``FAIR_WEIGHTS`` as owner → turns per round."""
        return parse_weights(self.FAIR_WEIGHTS)


#: The start of every placeholder secret in .env.example.
PLACEHOLDER = "change-me"


def jwt_family(algorithm: str) -> str:
    """The key family of a JWT algorithm: ``hmac``, ``rsa`` (RS*, PS*), ``ec`` or ``okp`` (EdDSA)."""
    name = algorithm.strip().upper()
    if name.startswith("HS"):
        return "hmac"
    if name.startswith(("RS", "PS")):
        return "rsa"
    if name.startswith("ES"):
        return "ec"
    return "okp" if name == "EDDSA" else name.lower()


def parse_weights(text: str) -> dict[str, int]:
    """``"ownerA=2,ownerB=1"`` → ``{"ownerA": 2, "ownerB": 1}``; ValueError on a malformed entry."""
    weights: dict[str, int] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        owner, sep, value = entry.rpartition("=")  # an owner id may itself hold "="
        if not sep or not owner.strip() or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"weight entry {entry.strip()!r} is not owner=N with N >= 1")
        weights[owner.strip()] = int(value)
    return weights
