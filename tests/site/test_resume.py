"""Resumable uploads in real Chromium against the real backend: after a reload and after a backend restart,
the upload goes on from the server's offset, and the bytes it held are not sent again (issue 15)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from backend.app import create_app
from backend.settings import Settings
from devops.readiness import free_port
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RATE = 48 * 1024  # bytes/s the browser may send while the test acts mid-upload


@contextmanager
def backend(settings: Settings, port: int) -> Iterator[str]:
    """The real backend on ``port``; leaving the block kills it at once, open uploads and all (a crash)."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, broker=False), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the backend did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True
        thread.join(15)
        assert not thread.is_alive()


def settings_in(folder: Path) -> Settings:
    return Settings(
        STORAGE_ROOT=folder / "storage",
        DATABASE_URL=f"sqlite:///{folder / 'backend.db'}",
        RUN_DIR=folder / "run",
        SITE_DIR=SITE,
        AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F",
    )


def held(settings: Settings) -> int:
    """Bytes the server holds of the one upload in progress (0 before it starts)."""
    files = list((settings.STORAGE_ROOT / "uploads").glob("*/data"))
    return files[0].stat().st_size if files else 0


def wait_held(settings: Settings, low: int, timeout_s: float = 30) -> int:
    deadline = time.monotonic() + timeout_s
    while (now := held(settings)) < low:
        assert time.monotonic() < deadline, f"the server holds {now} bytes, waited for {low}"
        time.sleep(0.05)
    return now


def settle(settings: Settings) -> int:
    """The server's offset once it stops moving (the cut connection's last bytes are written)."""
    last, same_since = held(settings), time.monotonic()
    while time.monotonic() - same_since < 0.6:
        time.sleep(0.1)
        if (now := held(settings)) != last:
            last, same_since = now, time.monotonic()
    return last


def throttle(page: Any, bytes_per_s: int) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_s},
    )
    return cdp


class Patches:
    """The Upload-Offset of every PATCH the page sends."""

    def __init__(self, page: Any) -> None:
        self.offsets: list[int] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method == "PATCH" and "/api/uploads/" in request.url:
            self.offsets.append(int(request.headers["upload-offset"]))


def submit(page: Any, source: Path) -> None:
    page.set_input_files("#file", str(source))
    page.wait_for_function("() => !document.querySelector('#submit').disabled")
    page.locator("#submit").click()


def finished(page: Any, settings: Settings, source: Path) -> None:
    page.locator("#upload-message").get_by_text("загружено").wait_for(timeout=60_000)
    card = page.locator("#jobs .job", has_text=source.name)
    card.wait_for()
    job_id = card.get_attribute("data-id")
    stored = settings.STORAGE_ROOT / "jobs" / str(job_id) / "input.mp4"
    assert stored.read_bytes() == source.read_bytes()
    assert not list((settings.STORAGE_ROOT / "uploads").iterdir())


@pytest.fixture
def big(clip: ClipFactory) -> Path:
    path = clip("site-resume.mp4", size="352x288", seconds=6.0)
    assert path.stat().st_size > 6 * RATE // 2, "the clip must take a few seconds at RATE"
    return path


def test_an_upload_resumes_after_a_page_reload(
    open_tab: Callable[..., Tab], tmp_path: Path, big: Path
) -> None:
    settings = settings_in(tmp_path)
    with backend(settings, free_port()) as url:
        tab = open_tab({"width": 1280, "height": 900})
        page = tab.page
        asked: list[str] = []

        def answer(dialog: Any) -> None:
            asked.append(dialog.type)
            dialog.accept()

        page.on("dialog", answer)
        page.goto(url)
        page.wait_for_selector("#models input")
        cdp = throttle(page, RATE)
        patches = Patches(page)
        submit(page, big)
        page.locator(".upload-text").get_by_text("осталось").wait_for()
        wait_held(settings, big.stat().st_size // 4)
        page.reload()
        cdp.detach()
        assert asked == ["beforeunload"], "leaving during an upload must ask first"
        before = settle(settings)
        assert 0 < before < big.stat().st_size
        page.wait_for_selector("#models input")
        # The page names the unfinished upload and how to go on.
        page.locator("#unfinished").get_by_text(f"Не закончена загрузка «{big.name}»").wait_for()
        sent_before = len(patches.offsets)
        submit(page, big)  # the same file again: found by its fingerprint and resumed
        finished(page, settings, big)
        assert patches.offsets[:sent_before] == [0]
        assert patches.offsets[sent_before] == before, "the bytes the server held were sent again"
        page.wait_for_function("() => document.querySelector('#unfinished').hidden")
    assert tab.console.errors == []


def test_an_upload_resumes_after_a_backend_restart(
    open_tab: Callable[..., Tab], tmp_path: Path, big: Path
) -> None:
    settings = settings_in(tmp_path)
    port = free_port()
    tab = open_tab({"width": 1280, "height": 900})
    page = tab.page
    with backend(settings, port) as url:
        page.goto(url)
        page.wait_for_selector("#models input")
        cdp = throttle(page, RATE)
        patches = Patches(page)
        submit(page, big)
        wait_held(settings, big.stat().st_size // 4)
    # The backend is down; it comes back on the same address and storage a moment later.
    before = settle(settings)
    assert 0 < before < big.stat().st_size
    with backend(settings, port):
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        finished(page, settings, big)
    assert patches.offsets[0] == 0
    assert before in patches.offsets[1:], f"no PATCH resumed at the server's {before}: {patches.offsets}"
    assert all(offset in (0, before) for offset in patches.offsets), patches.offsets
    # Chromium logs the refused connections while the backend was down, the 500 uvicorn answers for the
    # PATCH it cancelled while being killed, and the 423s while the killed PATCH's writer lease runs out
    # (backend.intake.locks, 10 s; tus-js-client retries them); nothing else may appear.
    expected = ("status of 500 (Internal Server Error) (http://127.0.0.1", "status of 423 (Locked) (http://127.0.0.1")
    unexpected = [
        e for e in tab.console.errors
        if "ERR_" not in e and not (any(text in e for text in expected) and "/api/uploads/" in e)
    ]
    assert unexpected == []


def test_a_quick_run_then_the_whole_video_without_a_second_upload(
    open_tab: Callable[..., Tab], tmp_path: Path, clip: ClipFactory
) -> None:
    settings = settings_in(tmp_path)
    source = clip("site-twelve.mp4", seconds=12.0)
    with backend(settings, free_port()) as url:
        tab = open_tab({"width": 1280, "height": 900})
        page = tab.page
        created: list[str] = []
        page.on(
            "request", lambda r: created.append(r.url) if r.method == "POST" and "/api/" in r.url else None
        )
        page.goto(url)
        page.wait_for_selector("#models input")
        page.get_by_role("radio", name="×4", exact=True).check()
        page.set_input_files("#file", str(source))
        quick = page.get_by_role("button", name="Проверить на 5 секундах")
        page.wait_for_function("() => !document.querySelector('#quick').disabled")
        quick.click()
        tag = page.locator("#jobs .job .job-quick")
        tag.wait_for(timeout=60_000)
        assert tag.inner_text().startswith("Проба: 5 с начиная с")
        test_card = page.locator("#jobs .job", has=page.locator(".job-quick:not([hidden])"))
        assert page.evaluate("() => document.activeElement.closest('.job') !== null")
        test_card.get_by_role("button", name="Обработать всё «site-twelve.mp4» с теми же настройками").click()
        page.wait_for_function("() => document.querySelectorAll('#jobs .job').length === 2")
        jobs = page.request.get(f"{url}/api/jobs").json()
        whole, test = jobs[0], jobs[1]
        assert test["excerpt_start"] is not None and test["input"]["duration_s"] < 6
        assert whole["excerpt_start"] is None and whole["input"]["duration_s"] > 11.5
        assert (whole["model"], whole["scale"]) == (test["model"], 4) and test["scale"] == 4
        # One upload (the tus creation), then the re-run: the file's bytes went up once.
        assert [u.rsplit("/api/", 1)[1] for u in created] == ["uploads", f"jobs/{test['id']}/rerun"]
        assert page.evaluate("() => document.activeElement.closest('.job')?.dataset.id") == whole["id"]
        # Its work done, «Обработать всё» goes (issue 26), after a reload too; the test run's tag stays.
        button = test_card.locator(".job-whole")
        assert button.is_hidden()
        page.reload()
        page.wait_for_function("() => document.querySelectorAll('#jobs .job').length === 2")
        assert test_card.locator(".job-quick").is_visible() and button.is_hidden()
    assert tab.console.errors == []
