"""Integrated mode (platform JWTs), signed media URLs, share links, the CSRF check and the page's headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import string
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.api.identity import UrlSigner, born
from backend.api.routes import watch
from backend.app import create_app
from backend.settings import Settings
from contract import storage
from tests.fixtures.api import finish, problem
from tests.fixtures.backend import upload
from tests.fixtures.tokens import AUDIENCE, ISSUER, KEY, token


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def app(integrated: Settings) -> Iterator[FastAPI]:
    made = create_app(integrated, broker=False)
    with TestClient(made):
        yield made


def user(app: FastAPI, sub: str, role: str | list[str] | None = None) -> TestClient:
    """A client that sends ``sub``'s token on every request (and keeps no cookie)."""
    return TestClient(app, headers=bearer(token(sub) if role is None else token(sub, role=role)))


BAD_TOKENS = {
    "expired": lambda: token(exp=int(time.time()) - 10),
    "wrong audience": lambda: token(aud="someone-else"),
    "wrong issuer": lambda: token(iss="https://evil.example"),
    "wrong key": lambda: token(key="another-secret-of-at-least-32-bytes!!"),
    "alg none": lambda: jwt.encode(
        {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 3600},
        "",
        algorithm="none",
    ),
    "no expiry": lambda: jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE}, KEY, algorithm="HS256"),
    "garbage": lambda: "not.a.token",
}


def test_only_a_valid_token_works(app: FastAPI, clip: Path) -> None:
    alice = upload(user(app, "alice"), clip)["id"]
    anonymous = TestClient(app)
    refused = anonymous.get("/api/jobs")
    problem(refused, 401, "auth.token_missing")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert "set-cookie" not in anonymous.get("/api/jobs").headers, "integrated mode issues no cookies"
    for name, make in BAD_TOKENS.items():
        client = TestClient(app, headers=bearer(make()))
        problem(client.get("/api/jobs"), 401, "auth.token_invalid")
        problem(client.get(f"/api/jobs/{alice}"), 401, "auth.token_invalid")
        assert client.delete(f"/api/jobs/{alice}").status_code == 401, name
    assert [j["id"] for j in user(app, "alice").get("/api/jobs").json()] == [alice]


def test_two_users_are_isolated_and_an_operator_sees_all(app: FastAPI, clip: Path) -> None:
    alice, bob = user(app, "alice"), user(app, "bob")
    mine, theirs = upload(alice, clip)["id"], upload(bob, clip)["id"]
    assert [j["id"] for j in alice.get("/api/jobs").json()] == [mine]
    assert [j["id"] for j in bob.get("/api/jobs").json()] == [theirs]
    problem(alice.get(f"/api/jobs/{theirs}"), 404, "http.job_not_found")
    problem(bob.delete(f"/api/jobs/{mine}"), 404, "http.job_not_found")
    support = user(app, "carol", role="operator")
    assert sorted(j["id"] for j in support.get("/api/jobs").json()) == sorted([mine, theirs])
    assert support.delete(f"/api/jobs/{theirs}").json()["status"] == "cancelled"
    listed = user(app, "dave", role=["viewer", "operator"]).get("/api/jobs").json()
    assert len(listed) == 2, "the role claim may be a list"


def hs256_by_hand(secret: bytes) -> str:
    """An HS256 token made without PyJWT (which refuses a PEM as an HMAC secret): the attacker's version."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 3600}
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    signing_input = f"{b64(header)}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def test_an_es256_public_key_verifies_tokens(integrated: Settings, clip: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    integrated.JWT_KEY, integrated.JWT_ALGORITHMS = public.decode(), "ES256"
    with TestClient(create_app(integrated, broker=False)) as client:
        good = client.get("/api/jobs", headers=bearer(token(key=pem.decode(), alg="ES256")))
        assert good.status_code == 200 and good.json() == []
        # The classic confusion: an HS256 token "signed" with the public key as its secret.
        confused = client.get("/api/jobs", headers=bearer(hs256_by_hand(public)))
        problem(confused, 401, "auth.token_invalid")


def test_none_cannot_be_configured(integrated: Settings) -> None:
    integrated.JWT_ALGORITHMS = "HS256, none"
    with pytest.raises(ValueError, match="none"):
        create_app(integrated, broker=False)


def _done_job(app: FastAPI, client: TestClient, settings: Settings, clip: Path, jpeg: Path) -> dict:
    job_id = upload(client, clip)["id"]
    finish(client, settings, job_id, clip, jpeg, vtt=True)
    storage.resolve(settings.STORAGE_ROOT, storage.vtt_key(job_id)).write_text("WEBVTT\n")
    return client.get(f"/api/jobs/{job_id}").json()


def test_media_urls_are_signed_and_work_without_the_header(
    app: FastAPI, integrated: Settings, clip: Path, jpeg: Path
) -> None:
    job = _done_job(app, user(app, "alice"), integrated, clip, jpeg)
    media = TestClient(app)  # a <video> element: no Authorization header
    for field in ("result_url", "vtt_url", "preview_before_url", "preview_after_url", "source_url"):
        url = job[field]
        assert "sig=" in url and "exp=" in url, field
        assert media.get(url).status_code == 200, field
        problem(media.get(url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")), 404, "auth.link_invalid")
    download = media.get(job["result_url"] + "&download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    # A signature is for one path: the result's does not open the source.
    query = job["result_url"].split("?", 1)[1]
    problem(media.get(f"/api/jobs/{job['id']}/source?{query}"), 404, "auth.link_invalid")
    problem(media.get(f"/api/jobs/{job['id']}/result"), 401, "auth.token_missing")
    assert user(app, "alice").get(f"/api/jobs/{job['id']}").json()["result_url"] == job["result_url"], (
        "a polled job keeps the same URLs for a while (the player is not reloaded)"
    )


def test_an_expired_media_url_is_refused(app: FastAPI, integrated: Settings, clip: Path, jpeg: Path) -> None:
    job = _done_job(app, user(app, "alice"), integrated, clip, jpeg)
    row = app.state.services.store.get(job["id"])
    signer: UrlSigner = app.state.signer
    path = f"/api/jobs/{job['id']}/result"
    expired = signer.sign(path, born(row), 60, expires=int(time.time()) - 1)
    problem(TestClient(app).get(expired), 404, "auth.link_invalid")
    fresh = signer.sign(path, born(row), 60)
    assert TestClient(app).get(fresh).status_code == 200
    # A watch link needs no token in integrated mode either (issue 26): a stranger's browser opens it.
    value = watch.token(signer, row, int(time.time()) + 60)
    shown = TestClient(app).get(f"/api/watch/{value}")
    assert shown.status_code == 200, shown.text
    assert TestClient(app).get(shown.json()["result_url"]).status_code == 200


def test_a_share_link_works_without_credentials_until_it_expires_or_the_job_is_deleted(
    settings: Settings, clip: Path, jpeg: Path
) -> None:
    app = create_app(settings, broker=False)
    with TestClient(app) as owner:
        job = _done_job(app, owner, settings, clip, jpeg)
        share = owner.post(f"/api/jobs/{job['id']}/share").json()
        assert share["expires_at"] and share["vtt_url"] and share["preview_after_url"]
        stranger = TestClient(app)
        for field in ("result_url", "vtt_url", "preview_before_url", "preview_after_url"):
            assert stranger.get(share[field]).status_code == 200, field
        assert stranger.get("/api/jobs").json() == [], "the link shares one result, not the owner's list"
        row = app.state.services.store.get(job["id"])
        path = f"/api/jobs/{job['id']}/result"
        expired = app.state.signer.sign(path, born(row), 60, expires=int(time.time()) - 1)
        problem(stranger.get(expired), 404, "auth.link_invalid")
        # The short watch link (issue 26): its page, and what the page reads, without credentials.
        page_html = '<!doctype html><script type="module" src="/watch.js"></script>'
        (settings.SITE_DIR / "watch.html").write_text(page_html)
        value = share["watch_url"].removeprefix("/w/")
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), share["watch_url"]
        page = stranger.get(share["watch_url"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "/watch.js" in page.text and "script-src 'self'" in page.headers["content-security-policy"]
        shown = stranger.get(f"/api/watch/{value}").json()
        assert shown["filename"] == job["filename"] and shown["expires_at"] == share["expires_at"]
        assert stranger.get(shown["result_url"]).status_code == 200
        assert stranger.get(shown["preview_after_url"]).status_code == 200
        problem(stranger.get(f"/api/jobs/{job['id']}"), 404, "http.job_not_found")
        tampered = value[:-1] + ("A" if value[-1] != "A" else "B")
        problem(stranger.get(f"/api/watch/{tampered}"), 404, "auth.link_invalid")
        problem(stranger.get("/api/watch/short"), 404, "auth.link_invalid")
        old = watch.token(app.state.signer, row, int(time.time()) - 1)
        problem(stranger.get(f"/api/watch/{old}"), 404, "auth.link_invalid")
        assert owner.delete(f"/api/jobs/{job['id']}").status_code == 204
        problem(stranger.get(share["result_url"]), 404, "auth.link_invalid")
        problem(stranger.get(f"/api/watch/{value}"), 404, "auth.link_invalid")
        problem(stranger.post(f"/api/jobs/{job['id']}/share"), 404, "http.job_not_found")


def test_only_a_finished_job_can_be_shared(client: TestClient, clip: Path) -> None:
    job_id = upload(client, clip)["id"]
    problem(client.post(f"/api/jobs/{job_id}/share"), 404, "http.result_not_ready")


def test_a_cross_site_state_change_with_the_cookie_is_refused(client: TestClient, clip: Path) -> None:
    job_id = upload(client, clip)["id"]
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ):
        problem(client.delete(f"/api/jobs/{job_id}", headers=headers), 403, "auth.foreign_origin")
        with clip.open("rb") as handle:
            posted = client.post("/api/jobs", files={"file": ("c.mp4", handle)}, headers=headers)
        problem(posted, 403, "auth.foreign_origin")
    assert [j["id"] for j in client.get("/api/jobs").json()] == [job_id], "nothing was created or cancelled"
    same_site = client.delete(f"/api/jobs/{job_id}", headers={"Origin": "http://testserver"})
    assert same_site.json()["status"] == "cancelled"
    no_origin = client.delete(f"/api/jobs/{job_id}")
    assert no_origin.status_code == 204, "no Origin nor Referer: a script, accepted"


def test_the_page_has_a_strict_policy_and_an_embedding_setting(settings: Settings) -> None:
    settings.EMBED_ORIGINS = "https://studio.example"
    with TestClient(create_app(settings, broker=False)) as client:
        page = client.get("/")
        assert "set-cookie" in page.headers, "the page's first answer gives the browser its owner"
        policy = page.headers["content-security-policy"]
        script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
        assert script.split() == ["script-src", "'self'"]
        assert "frame-ancestors 'self' https://studio.example" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert "set-cookie" not in TestClient(client.app).get("/metrics").headers, "a scrape is nobody"
        docs = client.get("/docs")
        assert "content-security-policy" not in docs.headers, "Swagger UI needs its inline script"
        config = client.get("/api/config").json()
    assert config["auth"] == {"mode": "standalone", "embed_origins": ["https://studio.example"]}


def test_the_page_has_no_inline_script_or_handlers() -> None:
    site = Path(__file__).resolve().parents[2] / "site"
    html = (site / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I), "inline event handlers need 'unsafe-inline'"
    assert not re.search(r"\sstyle\s*=", html, flags=re.I), "style-src 'self' refuses style attributes"
    assert "javascript:" not in html


def test_a_watch_token_has_one_spelling() -> None:
    # 32 bytes are 43 characters whose last one carries 2 spare bits: its neighbours decode alike.
    value = base64.urlsafe_b64encode(bytes(range(32))).rstrip(b"=").decode()
    original = watch._unpack(value)
    assert original is not None
    alphabet = string.ascii_letters + string.digits + "-_"
    spellings = [value[:-1] + char for char in alphabet if char != value[-1]]
    spellings += [value + "!", value[:20] + "." + value[20:]]  # outside the alphabet, which decoders skip
    assert [spelling for spelling in spellings if watch._unpack(spelling) == original] == []
