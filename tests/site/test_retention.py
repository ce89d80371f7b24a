"""Retention on the page: finished jobs say when they are deleted; storage use against the quota."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend.settings import Settings
from contract import storage
from contract.messages import DoneEvent
from tests.fixtures.backend_server import serve
from tests.fixtures.media import make_clip
from tests.fixtures.site import SITE, Tab
from tests.fixtures.fake_api import FakeApi, job
from tests.fixtures.site import card, open_page

pytestmark = pytest.mark.browser

GIB = 1024**3
#: Long enough for the page to show the deletion day on a loaded machine before the job goes.
RETENTION_S = 30


def test_finished_jobs_show_their_deletion_day_and_the_owner_their_storage_use(
    open_tab: Callable[..., Tab],
) -> None:
    # This year's 6 December, 10:00 UTC: the same day in every time zone from UTC-10 to UTC+13.
    expires = f"{datetime.now(UTC).year}-12-06T10:00:00Z"
    api = FakeApi(SITE)
    api.jobs = [
        job("a" * 32, "running", progress=0.4),
        job(
            "d" * 32,
            "done",
            progress=1.0,
            output={"width": 352, "height": 288, "frames": 50},
            expires_at=expires,
        ),
        job("f" * 32, "failed", error="broken", expires_at=expires),
        job("c" * 32, "cancelled"),  # retention off when it ended: no line
    ]
    api.usage.update(stored_bytes=int(1.2 * GIB), quota_bytes=10 * GIB, jobs=4, active_jobs=1)
    tab = open_page(open_tab, api)
    page = tab.page
    page.wait_for_selector(f'.job[data-id="{"d" * 32}"] .job-expires:not([hidden])')
    assert card(page, "d" * 32).locator(".job-expires").inner_text() == "Будет удалено 6 дек."
    assert card(page, "f" * 32).locator(".job-expires").inner_text() == "Будет удалено 6 дек."
    assert card(page, "a" * 32).locator(".job-expires").is_hidden()
    assert card(page, "c" * 32).locator(".job-expires").is_hidden()
    usage = page.locator("#jobs-usage")
    usage.wait_for(state="visible")
    assert usage.inner_text() == "Занято 1,2 ГБ из 10 ГБ"
    assert ("GET", "/api/usage") in api.requests

    page.get_by_role("button", name="Switch the page to English").click()
    assert card(page, "d" * 32).locator(".job-expires").inner_text() == "Will be deleted on Dec 6"
    assert usage.inner_text() == "1.2 GB of 10 GB used"
    assert tab.console.errors == []


def test_without_a_storage_quota_the_use_alone_is_shown(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    api.usage.update(stored_bytes=5 * 1024 * 1024)
    tab = open_page(open_tab, api)
    usage = tab.page.locator("#jobs-usage")
    usage.wait_for(state="visible")
    assert usage.inner_text() == "Занято 5 МБ"
    assert tab.console.errors == []


def test_a_short_retention_on_the_real_backend_shows_the_day_then_deletes_the_job(
    open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    settings = Settings(
        STORAGE_ROOT=tmp_path / "storage", DATABASE_URL=f"sqlite:///{tmp_path / 'backend.db'}",
        RUN_DIR=tmp_path / "run", SITE_DIR=SITE, AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F",
        RETENTION_S=RETENTION_S, JANITOR_INTERVAL_S=0.5,
    )  # fmt: skip
    source = make_clip(tmp_path / "clip.mp4", size="176x144", seconds=1.0)
    with serve(settings) as served:
        tab = open_tab()
        page = tab.page
        page.goto(f"{served.url}/")
        page.wait_for_selector("#models input")
        upload = {"file": {"name": "clip.mp4", "mimeType": "video/mp4", "buffer": source.read_bytes()}}
        created = page.request.post(f"{served.url}/api/jobs", multipart=upload)  # the page's own cookie
        assert created.status == 201, created.text()
        job_id = created.json()["id"]
        folder = storage.resolve(settings.STORAGE_ROOT, storage.job_dir(job_id))
        shutil.copy(source, folder / "output.mp4")
        served.app.state.services.store.apply_event(
            DoneEvent(job_id=job_id, output_key=storage.output_key(job_id), frames=25, width=352, height=288,
                      seconds=1.0)
        )  # fmt: skip
        page.reload()
        expires = card(page, job_id).locator(".job-expires")
        expires.wait_for(state="visible")
        assert expires.inner_text().startswith("Будет удалено ")
        assert folder.exists(), "deleted before the page could say so: raise RETENTION_S"
        usage = page.locator("#jobs-usage")
        usage.wait_for(state="visible")
        assert re.fullmatch(r"Занято \S+ \S+ из 20 ГБ", usage.inner_text()), usage.inner_text()
        deadline = time.monotonic() + RETENTION_S + 60
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not folder.exists(), "retention did not delete the job's files"
        page.reload()
        card(page, job_id).wait_for(state="detached")
        usage.wait_for(state="visible")
        assert usage.inner_text() == "Занято 0 Б из 20 ГБ"
        assert page.request.get(f"{served.url}/api/jobs/{job_id}").status == 404
        assert tab.console.errors == []
