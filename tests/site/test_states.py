"""Every state of the page in Russian at 1280×900 and English at 390×844: axe finds nothing, and each state
is photographed into artifacts/site/states/ (the source of docs/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.axe import violations
from tests.fixtures.fake_api import ORIGIN, FakeApi, job
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import DONE_ID, SITE, Tab, all_jobs, described_jobs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENS = {"ru": {"width": 1280, "height": 900}, "en": {"width": 390, "height": 844}}


def check(page: Any, folder: Path, lang: str, state: str) -> None:
    """No axe violation in ``state``; its screenshot kept."""
    page.wait_for_timeout(300)  # let transitions end so colours are final
    assert violations(page) == [], f"{lang} {state}"
    page.screenshot(path=str(folder / f"{lang}-{state}.png"), full_page=True, animations="disabled")


@pytest.mark.parametrize("lang", list(SCREENS))
def test_every_state_passes_axe(
    lang: str, open_tab: Callable[..., Tab], clip: ClipFactory, artifacts: Path
) -> None:
    folder = artifacts / "states"
    folder.mkdir(exist_ok=True)
    small = clip("site-small.mp4", seconds=2.0)
    tab = open_tab(SCREENS[lang])
    page = tab.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    empty = FakeApi(SITE, hold_uploads=True)
    empty.config["upload_url"] = "/api/uploads"  # resumable: the quick test run is offered
    empty.usage["active_jobs_limit"] = 1  # the second file waits on the page for a slot
    empty.install(page)
    page.goto(f"{ORIGIN}/")
    page.wait_for_selector("#models input")
    if lang == "en":
        page.locator("#lang-switch").click()
    page.wait_for_selector("#jobs-state:not([hidden])")
    check(page, folder, lang, "1-empty")

    page.set_input_files("#file", [str(small), str(clip("site-480.mp4", size="640x480", seconds=1.0))])
    page.wait_for_function("!document.querySelector('#submit').disabled")
    check(page, folder, lang, "2-picked")
    page.wait_for_function("document.querySelector('#limits').textContent.includes('1')")
    page.locator("#submit").click()
    page.locator(".upload-item").first.wait_for()
    page.locator("#upload-queue:not([hidden])").wait_for()
    check(page, folder, lang, "3-uploading")

    page.unroute(f"{ORIGIN}/**")
    page.on("dialog", lambda dialog: dialog.accept())  # leave while uploading: yes
    api = described_jobs(all_jobs(clip("site-result.mp4", size="352x288", seconds=1.0)), small)
    api.hold_uploads = True  # an upload the old page had under way must not meet a 404 here
    api.jobs[3] = job("c" * 32, "failed", error_code="media.decode_failed", filename=LONG_NAME)
    api.jobs[1]["excerpt_start"] = 42.0  # a quick test run waiting: its tag and «Обработать всё»
    # The finished job keeps its original: the video comparison shows too.
    api.jobs[4]["source_url"] = f"/api/jobs/{DONE_ID}/source"
    api.files[f"/api/jobs/{DONE_ID}/source"] = ("video/mp4", small.read_bytes())
    # A job whose model call timed out: attempt 2 of 5 waits, said on its card.
    api.jobs.append(job("9" * 32, "queued", filename="retried.mp4", retry={
        "attempt": 2, "of": 5, "at": "2026-01-01T10:01:00Z", "code": "job.triton_call_failed",
        "params": {"call": "infer", "detail": "Deadline Exceeded"}, "detail": "Triton infer failed", "infra": False}))
    api.install(page)
    page.reload()
    page.wait_for_selector("#jobs .job")
    check(page, folder, lang, "4-jobs")
    done = page.locator(f'.job[data-id="{DONE_ID}"]')
    done.locator(".job-open").click()
    # One viewer: the original and the result on one timeline (the stills only where it cannot play).
    figure = done.locator(".vcompare")
    figure.wait_for()
    page.wait_for_function("(f) => [...f.querySelectorAll('video')].every((v) => v.readyState >= 2)",
                           arg=figure.element_handle())
    assert done.locator(".compare").is_hidden()
    done.scroll_into_view_if_needed()
    check(page, folder, lang, "5-result")
    figure.locator(".vcompare-zoom").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[lang]["width"]
    check(page, folder, lang, "5-result-1to1")
    figure.locator(".vcompare-zoom").click()
    page.locator(".job", has_text="lecture.mp4").locator(".job-open").click()
    check(page, folder, lang, "6-described")
    page.locator(f'.job[data-id="{"c" * 32}"] .job-rerun').click()
    check(page, folder, lang, "7-rerun")
    page.locator(f'.job[data-id="{"c" * 32}"] .job-delete').click()
    page.locator("#confirm").wait_for()
    check(page, folder, lang, "8-dialog")
    page.keyboard.press("Escape")
    page.locator("#jobs-filters input[value='failed']").check()
    check(page, folder, lang, "9-filtered")
    # Nothing is fetched from anywhere but the backend (fonts, scripts, tus, axe's own injection included).
    outside = [url for url in asked if not url.startswith((f"{ORIGIN}/", "data:", "blob:"))]
    assert outside == []
    assert any(url.endswith("/vendor/tus.min.js") for url in asked)
    # Live regions are in place for what changes without focus moving.
    assert page.locator("#announcer").get_attribute("aria-live") == "polite"
    assert page.locator("#jobs-state").get_attribute("role") == "status"
    assert page.locator("#file-error").get_attribute("role") == "alert"
    assert [e for e in tab.console.errors if not re.search(r"ERR_|net::", e)] == []


LONG_NAME = "Очень длинное название ролика с отпуска на море, снятого на телефон, версия 3 финал финал.mp4"
