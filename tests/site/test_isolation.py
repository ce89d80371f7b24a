"""Identities in real browsers against the real backend app: two contexts, share links, the embedded page.

The backend runs in this process under uvicorn (no broker: jobs stay queued until a test finishes them
as an adapter would), serving the real site/ with its real headers, so a CSP violation would show up as
a console error.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from backend.settings import Settings
from contract import storage
from contract.messages import DoneEvent
from devops.readiness import free_port
from tests.fixtures.backend_server import serve
from tests.fixtures.media import make_clip, make_still
from tests.fixtures.site import SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The studio that embeds the page: another origin on this host (a loopback page may frame a loopback one).
STUDIO_PORT = free_port()
STUDIO = f"http://127.0.0.1:{STUDIO_PORT}"
KEY = "platform-secret-of-at-least-32-bytes!!"


@dataclass
class Backend:
    """A running backend app and its URL."""

    app: FastAPI
    url: str
    settings: Settings

    def finish(self, job_id: str, clip: Path, still: Path) -> None:
        """Store a result and previews and apply the done event, as an adapter would."""
        root = self.settings.STORAGE_ROOT
        shutil.copy(clip, storage.resolve(root, storage.output_key(job_id)))
        for which in ("before", "after"):
            shutil.copy(still, storage.resolve(root, storage.preview_key(job_id, which)))
        self.app.state.services.store.apply_event(
            DoneEvent(job_id=job_id, output_key=storage.output_key(job_id),
                      preview_before_key=storage.preview_key(job_id, "before"),
                      preview_after_key=storage.preview_key(job_id, "after"),
                      frames=25, width=176, height=144, seconds=1.0)
        )


def _serve(settings: Settings) -> Iterator[Backend]:
    with serve(settings) as served:
        yield Backend(served.app, served.url, settings)


def _settings(folder: Path, **extra: Any) -> Settings:
    return Settings(
        STORAGE_ROOT=folder / "storage", DATABASE_URL=f"sqlite:///{folder / 'backend.db'}",
        RUN_DIR=folder / "run", SITE_DIR=SITE, AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F", **extra,
    )


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[Backend]:
    yield from _serve(_settings(tmp_path))


@pytest.fixture
def integrated(tmp_path: Path) -> Iterator[Backend]:
    yield from _serve(_settings(
        tmp_path, AUTH_MODE="integrated", JWT_KEY=KEY, JWT_AUDIENCE="vsr", EMBED_ORIGINS=STUDIO,
    ))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("isolation")
    clip = make_clip(folder / "clip.mp4", gop=None, preset=None, shortest=True)
    return clip, make_still(folder / "still.jpg")


def upload_from(page: Any, base: str, clip: Path, name: str) -> str:
    """POST a job with the page's own cookie jar (what a script in that browser would do)."""
    part = {"name": name, "mimeType": "video/mp4", "buffer": clip.read_bytes()}
    answer = page.request.post(f"{base}/api/jobs", multipart={"file": part})
    assert answer.status == 201, answer.text()
    job_id: str = answer.json()["id"]
    return job_id


def names_on_page(page: Any) -> list[str]:
    """The file names on the page once its list has loaded (cards, or the empty-list sentence)."""
    page.wait_for_function(
        "() => { const s = document.querySelector('#jobs-state');"
        " return s.hidden || s.textContent.startsWith('Здесь появятся') || s.textContent.startsWith('Uploaded'); }"
    )
    return sorted(page.locator("#jobs .job-name").all_inner_texts())


def test_two_browsers_each_see_only_their_own_jobs(
    standalone: Backend, open_tab: Callable[..., Tab], media: tuple[Path, Path]
) -> None:
    alice, bob = open_tab(), open_tab()
    for tab in (alice, bob):
        tab.page.goto(standalone.url)
        tab.page.wait_for_selector("#models input")
    # Alice uploads through the form (the browser sends its Origin: same-site, accepted).
    alice.page.set_input_files("#file", str(media[0]))
    alice.page.wait_for_function("() => document.querySelector('#picked-meta').textContent.includes('176')")
    alice.page.get_by_role("switch", name="Улучшить качество").check()
    alice.page.get_by_role("radio", name="×2", exact=True).check()
    alice.page.get_by_role("button", name="Загрузить и улучшить").click()
    alice.page.locator("#jobs .job-name", has_text="clip.mp4").wait_for()
    bob_job = upload_from(bob.page, standalone.url, media[0], "bob.mp4")
    upload_from(alice.page, standalone.url, media[0], "alice-2.mp4")
    for tab in (alice, bob):
        tab.page.reload()
    assert names_on_page(alice.page) == ["alice-2.mp4", "clip.mp4"]
    assert names_on_page(bob.page) == ["bob.mp4"]
    assert alice.page.request.get(f"{standalone.url}/api/jobs/{bob_job}").status == 404
    assert alice.page.request.delete(f"{standalone.url}/api/jobs/{bob_job}").status == 404
    cookies = alice.page.context.cookies()
    assert [c["httpOnly"] and c["sameSite"] == "Lax" for c in cookies] == [True]
    assert alice.console.errors == [] and bob.console.errors == [], "no CSP violation, no failed call"


def test_a_share_link_opens_in_a_fresh_browser_until_the_job_is_deleted(
    standalone: Backend, open_tab: Callable[..., Tab], media: tuple[Path, Path]
) -> None:
    owner = open_tab()
    owner.page.goto(standalone.url)
    job_id = upload_from(owner.page, standalone.url, media[0], "shared.mp4")
    standalone.finish(job_id, *media)
    owner.page.reload()
    card = owner.page.locator(f'#jobs .job[data-id="{job_id}"]')
    card.get_by_role("button", name=re.compile("Поделиться результатом")).click()
    link = card.locator(".job-share-link")
    link.wait_for()
    url = link.input_value()
    # A short link to the watch page (issue 26), not a bare 250-character link to an MP4.
    assert re.fullmatch(re.escape(standalone.url) + r"/w/[A-Za-z0-9_-]{43}", url), url
    assert card.locator(".job-share-note").inner_text().startswith("Ссылка действует до")
    stranger = open_tab(locale="en-US")
    stranger.page.goto(url)
    video = stranger.page.locator("#watch-video")
    video.evaluate("v => new Promise((ok, fail) => { if (v.readyState >= 1) ok();"
                   " v.onloadedmetadata = ok; v.onerror = () => fail(new Error('video failed')); })")
    assert stranger.page.locator("h1").inner_text() == "shared.mp4"
    assert stranger.page.get_by_role("link", name="Download the video “shared.mp4”").is_visible()
    media = video.evaluate("v => v.currentSrc")
    assert f"/api/jobs/{job_id}/result?" in media and "sig=" in media
    assert stranger.page.request.get(f"{standalone.url}/api/jobs/{job_id}").status == 404, "another owner"
    stranger.page.goto(standalone.url)
    assert names_on_page(stranger.page) == [], "the link shares one result, not the owner's jobs"
    assert owner.page.request.delete(f"{standalone.url}/api/jobs/{job_id}").status == 204
    assert stranger.page.request.get(media).status == 404
    stranger.page.goto(url)
    stranger.page.get_by_text("The link has expired or the video was deleted.").wait_for()


def host_page(app_url: str) -> str:
    """The studio: embeds the page and hands it the user's token when the page says it is ready."""
    return (
        "<!doctype html><title>studio</title><link rel=\"icon\" href=\"data:,\">"
        f'<iframe id="vsr" src="{app_url}/" width="1000" height="700"></iframe>'
        "<script>window.addEventListener('message', (e) => {"
        f" if (e.origin === '{app_url}' && e.data && e.data.type === 'vsr-ready')"
        "  e.source.postMessage({type: 'vsr-token', token: window.TOKEN}, e.origin); });</script>"
    )


def test_the_embedded_page_plays_and_downloads_through_signed_urls(
    integrated: Backend, open_tab: Callable[..., Tab], media: tuple[Path, Path], tmp_path: Path
) -> None:
    token = jwt.encode({"sub": "alice", "aud": "vsr", "exp": int(time.time()) + 3600}, KEY, algorithm="HS256")
    other = jwt.encode({"sub": "bob", "aud": "vsr", "exp": int(time.time()) + 3600}, KEY, algorithm="HS256")
    for bearer, name in ((token, "alice.mp4"), (other, "bob.mp4")):
        with media[0].open("rb") as handle:
            made = httpx.post(f"{integrated.url}/api/jobs", files={"file": (name, handle, "video/mp4")},
                              headers={"Authorization": f"Bearer {bearer}"}, timeout=30)
        assert made.status_code == 201, made.text
        integrated.finish(made.json()["id"], *media)
    tab = open_tab()
    tab.page.add_init_script(f"if (location.origin === '{STUDIO}') window.TOKEN = '{token}';")
    with studio(tmp_path, host_page(integrated.url)):
        tab.page.goto(f"{STUDIO}/")
        check_embedded(tab, integrated)


@contextlib.contextmanager
def studio(folder: Path, page: str) -> Iterator[None]:
    """Serve ``page`` as the studio's index.html at STUDIO."""
    (folder / "studio").mkdir()
    (folder / "studio" / "index.html").write_text(page)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder / "studio"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", STUDIO_PORT), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def check_embedded(tab: Tab, integrated: Backend) -> None:
    """Alice's job only; its video plays and downloads through signed URLs, a tampered one fails."""
    frame = tab.page.frame_locator("#vsr")
    card = frame.locator("#jobs .job")
    card.first.wait_for()
    assert card.locator(".job-name").all_inner_texts() == ["alice.mp4"]
    card.get_by_role("button", name=re.compile("Смотреть результат")).click()
    # One viewer (issue 26): the result plays in the before/after viewer, through signed URLs.
    video = card.locator(".vcompare-after")
    video.evaluate("v => new Promise((ok, fail) => { if (v.readyState >= 1) ok();"
                   " v.onloadedmetadata = ok; v.onerror = () => fail(new Error('video failed')); })")
    src = video.evaluate("v => v.currentSrc")
    assert "sig=" in src
    href = card.locator(".job-download").get_attribute("href")
    assert href and "sig=" in href and "download=1" in href
    download = httpx.get(f"{integrated.url}{href}", timeout=30)  # no header, no cookie
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
    assert httpx.get(f"{integrated.url}{href.replace('sig=', 'sig=x')}", timeout=30).status_code == 404
    # Chromium refuses autofocus in a cross-origin frame (and says so); nothing else may fail.
    assert [e for e in tab.console.errors if "autofocusing" not in e] == []
