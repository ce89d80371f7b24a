"""Issue 27's other doors on real uvicorn (``tests.fixtures.backend_server.serve``): the dead-letter queue's
cap, quick-run excerpt edges, and identity (revocable sessions, the ``anon-`` prefix, refused start-ups,
secrets made 0600 from the start). Quotas and tus are tests/backend/test_admission.py."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest

from backend.api import identity
from backend.settings import Settings
from contract import topology
from tests.fixtures.api import problem
from tests.fixtures.backend_server import serve
from tests.fixtures.media import make_clip

TUS = {"Tus-Resumable": "1.0.0"}
ROOT = Path(__file__).resolve().parents[2]
KEY = "platform-secret-of-at-least-32-bytes!!"


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _tus(client: httpx.Client, base: str, data: bytes, **meta: str) -> httpx.Response:
    """Create and send a whole tus upload; the reply to the creation if refused, else to the PATCH."""
    headers = {**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": _meta(**meta)}
    made = client.post(f"{base}/api/uploads", headers=headers)
    if made.status_code != 201:
        return made
    sent = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    return client.patch(base + made.headers["Location"], headers=sent, content=data, timeout=120)


@pytest.mark.rabbitmq
def test_the_dead_letter_queue_expires_and_caps_what_nobody_reads(amqp_url: str, vhost: str) -> None:
    done = subprocess.run(
        ["rabbitmqctl", "list_queues", "-q", "-p", vhost, "name", "arguments", "--formatter", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    queues = {queue["name"]: queue["arguments"] for queue in json.loads(done.stdout)}
    # rabbitmqctl lists each argument as [name, type, value] (or {name: value} on newer brokers).
    raw = queues[topology.DEAD_QUEUE]
    dead = raw if isinstance(raw, dict) else {item[0]: item[-1] for item in raw}
    assert dead["x-message-ttl"] == topology.DEAD_TTL_S * 1000
    assert dead["x-max-length"] == topology.DEAD_MAX_LENGTH
    assert dead["x-overflow"] == "drop-head"
    rules = (ROOT / "devops/prometheus/rules.yml").read_text()
    assert "VsrDeadLetterQueueNearCap" in rules and "VsrDeadLetteredTasks" in rules


def test_quick_run_edges_are_refused_with_their_codes(settings: Settings, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "eight.mp4", seconds=8.0).read_bytes()
    playlist = b"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:1/secret.ts\n"
    with serve(settings) as served, httpx.Client(timeout=120) as client:
        base = served.url
        for start in ("inf", "1e308", "-1", "nan", "soon"):
            problem(_tus(client, base, clip, filename="a.mp4", excerpt=start), 422, "options.bad_excerpt")
        past = _tus(client, base, clip, filename="a.mp4", excerpt="60")
        body = problem(past, 422, "options.excerpt_past_end")
        assert body["params"]["start_s"] == 60.0 and 7.0 <= body["params"]["duration_s"] <= 8.1
        problem(_tus(client, base, playlist, filename="a.mp4", excerpt="auto"), 415, "media.playlist")
        problem(_tus(client, base, playlist, filename="a.mp4"), 415, "media.playlist")
        with_files = client.post(f"{base}/api/jobs", files={"file": ("a.mp4", playlist, "video/mp4")})
        problem(with_files, 415, "media.playlist")
        ok = _tus(client, base, clip, filename="a.mp4", excerpt="2")
        assert ok.status_code == 204, ok.text
        job = client.get(f"{base}/api/jobs/{ok.headers['Upload-Job']}").json()
        assert job["excerpt_start"] == 2.0
    leftovers = [p for p in (settings.STORAGE_ROOT / "jobs").iterdir() if p.name != ok.headers["Upload-Job"]]
    assert leftovers == [] and list((settings.STORAGE_ROOT / "uploads").iterdir()) == []


def test_an_owner_renews_the_session_and_a_leaked_cookie_stops_working(
    settings: Settings, clip: Path
) -> None:
    with serve(settings) as served, httpx.Client(timeout=60) as owner:
        base = served.url
        with clip.open("rb") as handle:
            made = owner.post(f"{base}/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
        assert made.status_code == 201, made.text
        job = f"{base}/api/jobs/{made.json()['id']}"
        thief = httpx.Client(cookies=dict(owner.cookies), timeout=60)
        assert thief.get(job).status_code == 200  # a copied cookie is the owner...
        renewed = owner.post(f"{base}/api/session/renew")
        assert renewed.status_code == 204 and settings.OWNER_COOKIE in renewed.headers["set-cookie"]
        assert owner.get(job).status_code == 200  # ...until the owner renews: then only the owner's works
        assert thief.get(job).status_code == 404
        thief.close()


def test_an_operator_revokes_an_owner_and_tokens_cannot_act_as_a_cookie_owner(
    settings: Settings, clip: Path
) -> None:
    settings.JWT_KEY = KEY

    def bearer(sub: str, **claims: object) -> dict[str, str]:
        payload = {"sub": sub, "exp": int(time.time()) + 3600, **claims}
        return {"Authorization": f"Bearer {jwt.encode(payload, KEY, algorithm='HS256')}"}

    with serve(settings) as served, httpx.Client(timeout=60) as owner:
        base = served.url
        with clip.open("rb") as handle:
            made = owner.post(f"{base}/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
        job_id = made.json()["id"]
        anon = next(j for j in httpx.get(f"{base}/api/jobs", headers=bearer("op", role="operator")).json()
                    if j["id"] == job_id)
        assert anon  # the operator sees it
        cookie_owner = owner_of(owner, settings)
        # A token whose sub is that cookie owner's id is not that owner: the prefix is the cookies' own.
        as_token = httpx.get(f"{base}/api/jobs/{job_id}", headers=bearer(cookie_owner))
        problem(as_token, 401, "auth.token_invalid")
        problem(httpx.post(f"{base}/api/owners/{cookie_owner}/revoke", headers=bearer("bob")), 404)
        assert httpx.post(
            f"{base}/api/owners/{cookie_owner}/revoke", headers=bearer("op", role="operator")
        ).status_code == 204
        assert owner.get(f"{base}/api/jobs/{job_id}").status_code == 404  # the cookie no longer counts


def owner_of(client: httpx.Client, settings: Settings) -> str:
    """The anonymous owner a client's cookie names (read with the app's own secret)."""
    auth = identity.Auth(settings, identity.load_secret(settings))
    found = auth.owner_of_cookie(client.cookies.get(settings.OWNER_COOKIE))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"SECRET_KEY": "change-me-to-a-long-random-secret"}, "SECRET_KEY"),
        ({"OPS_TOKEN": "change-me-to-a-long-random-token"}, "OPS_TOKEN"),
        ({"JWT_ALGORITHMS": "HS256,RS256"}, "JWT_ALGORITHMS"),
    ],
)
def test_placeholder_secrets_and_mixed_algorithm_families_are_refused_at_start_up(
    tmp_path: Path, env: dict[str, str], word: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backend"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={
            **os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "RUN_DIR": str(tmp_path),
            "STORAGE_ROOT": str(tmp_path / "storage"), "BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": "1",
            **env,
        },
    )
    assert done.returncode != 0 and word in done.stderr, done.stderr[-2000:]


def test_a_generated_secret_is_private_from_its_first_byte(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = identity.secrets.token_urlsafe

    def watching(nbytes: int) -> str:
        # The moment the secret is made: its file must exist already, readable by this user only.
        drafts = [p for p in settings.RUN_DIR.iterdir() if p.name.startswith(".secret.")]
        seen.extend(stat.S_IMODE(p.stat().st_mode) for p in drafts)
        return real(nbytes)

    monkeypatch.setattr(identity.secrets, "token_urlsafe", watching)
    settings.SECRET_KEY = ""
    settings.RUN_DIR.mkdir(parents=True, exist_ok=True)
    old = os.umask(0)
    try:
        identity.load_secret(settings)
    finally:
        os.umask(old)
    assert seen == [0o600]
    assert stat.S_IMODE((settings.RUN_DIR / "secret").stat().st_mode) == 0o600
