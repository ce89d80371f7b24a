"""Per-owner quotas: active jobs (429), stored bytes (507/413), uploads per hour (429), per address."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from backend.app import create_app
from backend.settings import Settings
from contract.catalogue import Reason
from tests.fixtures.api import problem
from tests.fixtures.backend import upload
from tests.fixtures.tokens import token


def post(client: TestClient, path: Path, headers: dict[str, str] | None = None) -> Response:
    with path.open("rb") as handle:
        return client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")}, headers=headers)


def refused(response: Response, status: int, code: str) -> tuple[dict, int]:
    """Assert a quota refusal (status, code, en + ru sentence, Retry-After); the body and the wait."""
    body = problem(response, status, code)
    ru = Reason(code=body["code"], params=body["params"]).text("ru")
    assert ru and ru != body["detail"]
    return body, int(response.headers["retry-after"])


def stored_jobs(settings: Settings) -> int:
    jobs = settings.STORAGE_ROOT / "jobs"
    return len(list(jobs.iterdir())) if jobs.exists() else 0


@contextmanager
def make_app(settings: Settings, **quotas: object) -> Iterator[FastAPI]:
    for name, value in {
        "QUOTA_ACTIVE_JOBS": 0, "QUOTA_STORAGE_BYTES": 0, "QUOTA_UPLOADS_PER_HOUR": 0,
        "QUOTA_ADDRESS_UPLOADS_PER_HOUR": 0, **quotas,
    }.items():
        setattr(settings, name, value)
    made = create_app(settings, broker=False)
    with TestClient(made):
        yield made


def test_defaults_are_on() -> None:
    defaults = Settings()
    assert defaults.QUOTA_ACTIVE_JOBS == 5 and defaults.QUOTA_UPLOADS_PER_HOUR > 0
    assert defaults.QUOTA_STORAGE_BYTES > 0 and defaults.QUOTA_ADDRESS_UPLOADS_PER_HOUR > 0
    assert defaults.TRUSTED_PROXIES == ""


def test_active_jobs_per_owner(settings: Settings, clip: Path) -> None:
    with make_app(settings, QUOTA_ACTIVE_JOBS=2) as app:
        alice, bob = TestClient(app), TestClient(app)
        first = upload(alice, clip)
        upload(alice, clip)
        body, wait = refused(post(alice, clip), 429, "quota.active_jobs")
        assert body["params"] == {"limit": 2} and wait == 60
        assert stored_jobs(settings) == 2  # the refused upload wrote nothing
        upload(bob, clip)  # another owner has quotas of its own
        assert alice.delete(f"/api/jobs/{first['id']}").json()["status"] == "cancelled"
        upload(alice, clip)  # a cancelled job is no longer active


def test_uploads_per_hour_per_owner(settings: Settings, clip: Path) -> None:
    with make_app(settings, QUOTA_UPLOADS_PER_HOUR=2) as app:
        alice, bob = TestClient(app), TestClient(app)
        for _ in range(2):
            made = upload(alice, clip)
        # Cancelling a job does not give back an upload of the hour.
        assert alice.delete(f"/api/jobs/{made['id']}").json()["status"] == "cancelled"
        body, wait = refused(post(alice, clip), 429, "quota.uploads_per_hour")
        assert 3500 < wait <= 3601 and body["params"] == {"limit": 2, "retry_after_s": wait}
        upload(bob, clip)
        assert stored_jobs(settings) == 3  # alice's two and bob's one; nothing of the refused one


def test_stored_bytes_507_and_413_for_an_upload_larger_than_the_quota(settings: Settings, clip: Path) -> None:
    size = clip.stat().st_size
    with make_app(settings, QUOTA_STORAGE_BYTES=size * 3 // 2) as app:
        alice, bob = TestClient(app), TestClient(app)
        upload(alice, clip)
        body, wait = refused(post(alice, clip), 507, "quota.storage")
        assert body["params"] == {"used_bytes": size, "limit_bytes": size * 3 // 2} and wait > 0
        assert stored_jobs(settings) == 1  # the part streamed before the cap was removed
        upload(bob, clip)
    with make_app(settings, QUOTA_STORAGE_BYTES=size // 2) as app:
        body, _ = refused(post(TestClient(app), clip), 413, "quota.upload_over_quota")
        assert body["params"] == {"limit_bytes": size // 2}
        assert stored_jobs(settings) == 2


@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8"])
def test_anonymous_owners_are_limited_per_address(settings: Settings, clip: Path, trusted: str) -> None:
    with make_app(settings, QUOTA_ADDRESS_UPLOADS_PER_HOUR=1, TRUSTED_PROXIES=trusted) as app:
        def via_proxy(forwarded: str) -> Response:
            # A fresh cookie each time: a new anonymous owner behind the same proxy.
            return post(TestClient(app, client=("10.0.0.1", 4000)), clip, {"X-Forwarded-For": forwarded})

        assert via_proxy("198.51.100.1").status_code == 201
        second = via_proxy("198.51.100.2")
        if trusted:
            assert second.status_code == 201  # another client behind the trusted proxy
            # A client's own X-Forwarded-For entry left of the real one is not believed.
            refused(via_proxy("203.0.113.9, 198.51.100.1"), 429, "quota.address_uploads_per_hour")
        else:
            # An untrusted peer's X-Forwarded-For is ignored: both came from 10.0.0.1.
            refused(second, 429, "quota.address_uploads_per_hour")
        other = post(TestClient(app, client=("192.0.2.7", 4000)), clip)
        assert other.status_code == 201
        assert stored_jobs(settings) == (3 if trusted else 2)


def test_operators_are_exempt(integrated: Settings, clip: Path) -> None:
    with make_app(integrated, QUOTA_ACTIVE_JOBS=1, QUOTA_UPLOADS_PER_HOUR=1) as app:
        def as_user(sub: str, role: str | None = None) -> TestClient:
            claims = {"role": role} if role else {}
            return TestClient(app, headers={"Authorization": f"Bearer {token(sub, **claims)}"})

        support, carol = as_user("support", "operator"), as_user("carol")
        for _ in range(3):
            upload(support, clip)
        upload(carol, clip)
        refused(post(carol, clip), 429, "quota.")
