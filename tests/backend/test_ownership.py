"""Every job route is scoped to its owner: three cookie jars on one app, each seeing only its own jobs."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.dispatch.outbox import task_message
from backend.settings import Settings
from contract import storage
from contract.logs import JsonFormatter, bind_owner
from contract.messages import JobMessage
from tests.fixtures.api import finish, problem
from tests.fixtures.backend import upload
from tests.fixtures.backend_server import serve
from tests.fixtures.services import require

MISSING = "0" * 32


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    made = create_app(settings, broker=False)
    with TestClient(made):  # runs the lifespan once for every client below
        yield made


def jar(app: FastAPI) -> TestClient:
    """A client with its own cookie jar: a browser or ``curl -c/-b`` of its own."""
    return TestClient(app)


def job_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route under /api/jobs/{job_id}, read from the app itself."""
    found = [
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.path and "{job_id}" in context.path
        for method in sorted(context.original_route.methods or ())
    ]
    assert len(found) >= 7, found  # read, delete, share, result, vtt, source, preview
    return found


def fill(path: str, job_id: str) -> str:
    """A concrete URL of a route template (other path parameters get a valid value)."""
    return re.sub(r"\{[^}]+\}", "before", path.replace("{job_id}", job_id))


def test_each_jar_sees_only_its_own_jobs(app: FastAPI, clip: Path) -> None:
    jars = [jar(app) for _ in range(3)]
    made = [[upload(client, clip)["id"] for _ in range(n + 1)] for n, client in enumerate(jars)]
    for client, mine in zip(jars, made, strict=True):
        assert sorted(j["id"] for j in client.get("/api/jobs").json()) == sorted(mine)
        for theirs in (ids for ids in made if ids is not mine):
            for job_id in theirs:
                problem(client.get(f"/api/jobs/{job_id}"), 404, "http.job_not_found")


def test_every_job_route_on_another_owners_job_is_404_like_a_missing_one(
    app: FastAPI, settings: Settings, clip: Path, jpeg: Path
) -> None:
    owner, stranger = jar(app), jar(app)
    job_id = upload(owner, clip)["id"]
    finish(owner, settings, job_id, clip, jpeg, vtt=True, proxy=True)
    storage.resolve(settings.STORAGE_ROOT, storage.vtt_key(job_id)).write_text("WEBVTT\n")
    for method, template in job_routes(app):
        foreign = stranger.request(method, fill(template, job_id))
        missing = stranger.request(method, fill(template, MISSING))
        assert foreign.status_code == 404, (method, template, foreign.status_code)
        assert foreign.json() == missing.json(), (method, template)
    for method, template in job_routes(app):
        if method == "GET":
            assert owner.get(fill(template, job_id)).status_code == 200, template
    assert owner.get(f"/api/jobs/{job_id}").json()["status"] == "done", "the stranger changed nothing"


def test_a_client_without_cookies_gets_a_fresh_identity_that_sees_nothing(app: FastAPI, clip: Path) -> None:
    upload(jar(app), clip)
    fresh = jar(app)
    response = fresh.get("/api/jobs")
    assert response.status_code == 200 and response.json() == []
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower(), "plain HTTP: a Secure cookie would never come back"
    again = fresh.get("/api/jobs")
    assert "set-cookie" not in again.headers, "the same client keeps its identity"


def test_the_cookie_is_secure_over_https(app: FastAPI) -> None:
    response = TestClient(app, base_url="https://vsr.example").get("/api/jobs")
    assert "secure" in response.headers["set-cookie"].lower()


def test_a_forged_cookie_is_a_new_identity(app: FastAPI, settings: Settings, clip: Path) -> None:
    victim = jar(app)
    upload(victim, clip)
    forged = jar(app)
    value = victim.cookies[settings.OWNER_COOKIE]
    forged.cookies.set(settings.OWNER_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert forged.get("/api/jobs").json() == []


def test_the_signing_secret_is_made_once_and_shared_by_backends_on_the_volume(
    settings: Settings, clip: Path
) -> None:
    first = create_app(settings, broker=False)
    with TestClient(first) as one:
        job_id = upload(one, clip)["id"]
        cookie = one.cookies[settings.OWNER_COOKIE]
    secret = (settings.RUN_DIR / "secret").read_text()
    assert len(secret) >= 32
    with TestClient(create_app(settings, broker=False)) as other:
        other.cookies.set(settings.OWNER_COOKIE, cookie)
        assert [j["id"] for j in other.get("/api/jobs").json()] == [job_id]
    assert (settings.RUN_DIR / "secret").read_text() == secret


def test_the_owner_travels_in_the_task_message_and_the_logs(app: FastAPI, clip: Path) -> None:
    client = jar(app)
    job_id = upload(client, clip)["id"]
    job = app.state.services.store.get(job_id)
    assert job.owner.startswith("anon-")
    message = task_message(job)
    assert message.owner == job.owner
    assert JobMessage.model_validate_json(message.model_dump_json()).owner == job.owner
    older = message.model_dump(mode="json")
    del older["owner"]
    assert JobMessage.model_validate(older).owner is None, "a task from before owners still parses"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.owner")
    logger.addHandler(handler)
    try:
        with bind_owner(job.owner):
            logger.warning("bound")
        logger.warning("explicit", extra={"owner": "someone"})
        logger.warning("none")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("owner") for line in lines] == [job.owner, "someone", None]


def curl(jar: Path | None, *args: str) -> tuple[int, str]:
    """Real curl with its own cookie jar (``-c``/``-b``; None: no cookies at all): (status, body)."""
    cookies = ["-c", str(jar), "-b", str(jar)] if jar is not None else []
    done = subprocess.run(
        ["curl", "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}", *cookies, *args],
        capture_output=True, text=True, timeout=60, check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_three_curl_cookie_jars_against_a_real_server(settings: Settings, clip: Path, tmp_path: Path) -> None:
    require(shutil.which("curl") is not None, "curl")
    with serve(settings) as served:
        jars = [tmp_path / f"jar{n}.txt" for n in range(3)]
        made: list[str] = []
        for jar in jars:
            status, body = curl(jar, "-F", f"file=@{clip};type=video/mp4", f"{served.url}/api/jobs")
            assert status == 201, body
            made.append(json.loads(body)["id"])
        for jar, mine in zip(jars, made, strict=True):
            status, body = curl(jar, f"{served.url}/api/jobs")
            assert status == 200 and [j["id"] for j in json.loads(body)] == [mine]
            for theirs in (job_id for job_id in made if job_id != mine):
                for method, template in job_routes(served.app):
                    status, body = curl(jar, "-X", method, f"{served.url}{fill(template, theirs)}")
                    assert status == 404, (method, template, body)
        status, body = curl(None, f"{served.url}/api/jobs")
        assert status == 200 and json.loads(body) == [], "no cookies: a fresh owner that sees nothing"
        status, body = curl(jars[0], "-X", "DELETE", "-H", "Origin: https://evil.example",
                            f"{served.url}/api/jobs/{made[0]}")
        assert status == 403 and json.loads(body)["code"] == "auth.foreign_origin"
        status, body = curl(jars[0], "-X", "DELETE", f"{served.url}/api/jobs/{made[0]}")
        assert status == 200 and json.loads(body)["status"] == "cancelled", "no Origin: a script, accepted"
