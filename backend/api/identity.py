"""Who is calling: an anonymous owner from a signed cookie (standalone) or a platform JWT (integrated).

The signing secret comes from ``SECRET_KEY``; without one it is generated once under ``RUN_DIR`` (shared
by the backends on that volume), so a restart does not orphan every job. Cryptography is PyJWT's and
itsdangerous's, nothing hand-rolled.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import jwt
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import HTTPConnection

from backend.jobs.db import Job
from backend.settings import Settings
from contract.catalogue import Reason, reason

#: Owner of the jobs from before identities existed; only operators see them.
LEGACY = "legacy"
#: The prefix of anonymous (cookie) owners, reserved for them: no token's ``sub`` may start with it.
ANONYMOUS = "anon-"
_SECRET_FILE = "secret"
#: Where the generated operator token lives (Prometheus reads it there, or from OPS_TOKEN).
OPS_TOKEN_FILE = "ops_token"


def load_secret(settings: Settings) -> str:
    """``SECRET_KEY``, or the one kept in ``RUN_DIR/secret`` (made there once, atomically, if missing)."""
    if settings.SECRET_KEY:
        return settings.SECRET_KEY
    return generated(settings.RUN_DIR / _SECRET_FILE)


def load_ops_token(settings: Settings) -> str:
    """``OPS_TOKEN``, or the one kept in ``RUN_DIR/ops_token``: the operator endpoints are never open."""
    if settings.OPS_TOKEN:
        return settings.OPS_TOKEN
    return generated(settings.RUN_DIR / OPS_TOKEN_FILE)


def generated(path: Path) -> str:
    """A random secret kept in ``path``: made once, readable by this user only from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        # Created 0600 (O_EXCL: never someone else's file): no moment when another user may read it.
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            # link() fails when another backend got there first: everyone then reads the same secret.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    text = path.read_text().strip()
    if not text:
        raise RuntimeError(f"the signing secret file {path} is empty")
    return text


@dataclass(frozen=True)
class Caller:
    """The identity a request acts as."""

    owner: str
    operator: bool = False
    #: True when a Bearer token said who this is (no cookie, so no CSRF exposure).
    by_token: bool = False

    def may_see(self, owner: str) -> bool:
        """Whether this caller may reach a job of ``owner``."""
        return self.operator or owner == self.owner


@dataclass(frozen=True)
class Identified:
    """What a request's credentials say: a caller, or why there is none; and a cookie to set, if new."""

    caller: Caller | None
    refusal: Reason | None = None
    new_cookie: str | None = None


class Auth:
    """Reads and issues identities for one app."""

    def __init__(
        self, settings: Settings, secret: str, revoked_at: Callable[[str], float] | None = None
    ) -> None:
        self.settings = settings
        self._cookies = URLSafeSerializer(secret, salt="vsr.owner")
        #: When an owner's sessions were last revoked (backend.api.sessions); None: never revocable.
        self._revoked_at = revoked_at
        self._algorithms = [a.strip() for a in settings.JWT_ALGORITHMS.split(",") if a.strip()]
        if any(a.lower() == "none" for a in self._algorithms):
            raise ValueError("JWT_ALGORITHMS must not accept 'none'")

    def identify(self, conn: HTTPConnection) -> Identified:
        """The caller of a request (Bearer token first, then the owner cookie in standalone mode)."""
        header = conn.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return self._from_token(header[7:].strip())
        if self.settings.AUTH_MODE == "integrated":
            return Identified(None, reason("auth.token_missing"))
        owner = self.owner_of_cookie(conn.cookies.get(self.settings.OWNER_COOKIE))
        if owner is not None:
            return Identified(Caller(owner))
        owner = f"{ANONYMOUS}{secrets.token_hex(16)}"
        return Identified(Caller(owner), new_cookie=self.cookie_for(owner))

    def cookie_for(self, owner: str) -> str:
        """A new signed cookie of ``owner``, stamped with the moment it was issued (for revocation)."""
        return self._cookies.dumps([owner, time.time()])

    def owner_of_cookie(self, value: str | None) -> str | None:
        """The owner a cookie names, or None when it is absent, its signature wrong or its session revoked."""
        if not value:
            return None
        try:
            signed = self._cookies.loads(value)
        except BadSignature:
            return None
        # Cookies from before sessions name only the owner: issued at 0, any revocation ends them.
        if isinstance(signed, str):
            owner, issued = signed, 0.0
        elif isinstance(signed, list) and len(signed) == 2:
            owner, issued = signed
        else:
            return None
        if not isinstance(owner, str) or not owner.startswith(ANONYMOUS):
            return None
        if not isinstance(issued, int | float):
            return None
        if self._revoked_at is not None and issued < self._revoked_at(owner):
            return None
        return owner

    def _from_token(self, token: str) -> Identified:
        if not self.settings.JWT_KEY:
            return Identified(None, reason("auth.token_invalid"))
        try:
            claims = jwt.decode(
                token,
                self.settings.JWT_KEY,
                algorithms=self._algorithms,
                audience=self.settings.JWT_AUDIENCE or None,
                issuer=self.settings.JWT_ISSUER or None,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError:
            return Identified(None, reason("auth.token_invalid"))
        subject = claims.get("sub")
        # ``anon-`` owners are the cookies' own: a token naming one would act as that browser.
        if (
            not isinstance(subject, str) or not subject or subject == LEGACY or len(subject) > 128
            or subject.startswith(ANONYMOUS)
        ):
            return Identified(None, reason("auth.token_invalid"))
        roles = claims.get(self.settings.JWT_ROLE_CLAIM)
        role_list = roles if isinstance(roles, list) else [roles]
        return Identified(Caller(subject, self.settings.OPERATOR_ROLE in role_list, by_token=True))


def born(job: Job) -> str:
    """A job's creation time as signatures bind it (a later job with the same id would not match)."""
    created = job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC)
    return created.isoformat()


@dataclass(frozen=True)
class UrlSigner:
    """Short-lived signed media URLs and share links: bound to path, job birth and expiry."""

    secret: str

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="vsr.media")

    @staticmethod
    def expiry(ttl_s: int, *, now: float | None = None) -> int:
        """When a URL made now expires: rounded up, so a polled job's URLs stay the same for a while."""
        now = time.time() if now is None else now
        if ttl_s < 2:
            return int(now) + ttl_s
        step = ttl_s // 2
        return (int(now) // step + 2) * step

    def sign(self, path: str, born: str, ttl_s: int, *, expires: int | None = None) -> str:
        """``path?exp=...&sig=...``, valid for about ``ttl_s`` (or until ``expires``)."""
        expires = self.expiry(ttl_s) if expires is None else expires
        signature = self._serializer().dumps([path, born, expires])
        return f"{path}?exp={expires}&sig={signature}"

    def check(self, path: str, born: str, exp: int, sig: str) -> bool:
        """Whether ``sig`` was made by :meth:`sign` for this path and job, and ``exp`` is still ahead."""
        if exp <= time.time():
            return False
        try:
            signed = self._serializer().loads(sig)
        except BadSignature:
            return False
        return bool(signed == [path, born, exp])
