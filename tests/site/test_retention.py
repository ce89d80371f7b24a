"""Retention on the page: finished jobs say when they are deleted; storage use against the quota."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tests.site.conftest import SITE, Tab
from tests.site.fake_api import FakeApi, job
from tests.site.test_page import card, open_page

pytestmark = pytest.mark.browser

GIB = 1024**3


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
    assert card(page, "d" * 32).locator(".job-expires").inner_text() == "Deleted on Dec 6"
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
