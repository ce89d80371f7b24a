"""A retried job's card in real Chromium against the real backend app (issue 26): the retry is said in
words with its attempt and reason, and the percentage and frame count always come from the same attempt.

The backend runs under uvicorn without a broker; the test applies the adapter's events to its store as
the event consumer would (progress of attempt 1, the scheduled retry, progress of attempt 2).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.jobs import rules
from contract.messages import ProgressEvent, RetryEvent
from tests.fixtures.axe import violations
from tests.fixtures.backend_server import Served
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import ARTIFACTS, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOTAL = 75
SCREENS = {
    "ru": ({"width": 1280, "height": 900}, "ru-RU"),
    "en": ({"width": 390, "height": 844}, "en-US"),
}
RETRY = {
    "ru": "Попытка 2 из 5 — сервер был перегружен, продолжаем сами",
    "en": "Attempt 2 of 5 — the server was overloaded; we carry on by ourselves",
}
INFRA = {
    "ru": "Сервер моделей занят — ждём его и продолжим сами; попытка не расходуется",
    "en": "The model server is busy — we wait for it and carry on; no attempt is used",
}


def stats(page: Any) -> dict[str, str]:
    """The card's retry line, percentage, frame count and bar value as shown now."""
    return dict(page.evaluate(
        """() => { const c = document.querySelector('#jobs .job');
            const text = (s) => { const e = c.querySelector(s); return e.hidden ? '' : e.textContent; };
            return { retry: text('.job-retry'), pct: text('.job-pct'), frames: text('.job-frames'),
                     bar: c.querySelector('.job-progress').getAttribute('aria-valuenow'), status: c.dataset.status }; }"""
    ))


def percent(text: str) -> str:
    """A shown percentage without its language's spacing ("43 %" in Russian, "43%" in English)."""
    return text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")


def wait_status(page: Any, status: str) -> None:
    page.wait_for_function("(s) => document.querySelector('#jobs .job')?.dataset.status === s", arg=status)


def one_job_on_both_screens(
    backend: Served, open_tab: Callable[..., Tab], source: Path
) -> tuple[dict[str, Tab], str]:
    """A tab per screen of SCREENS, both one owner (the English one a second window with the cookie), and
    that owner's job made from ``source``."""
    tabs = {language: open_tab(viewport, locale=locale) for language, (viewport, locale) in SCREENS.items()}
    owner = tabs["ru"].page
    owner.goto(backend.url)
    owner.wait_for_selector("#models input")
    made = owner.request.post(f"{backend.url}/api/jobs", multipart={
        "file": {"name": source.name, "mimeType": "video/mp4", "buffer": source.read_bytes()}})
    assert made.status == 201, made.text()
    tabs["en"].page.context.add_cookies(owner.context.cookies())
    return tabs, str(made.json()["id"])


def test_a_retry_is_said_on_the_card_and_progress_never_mixes_attempts(
    backend: Served, open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    tabs, job_id = one_job_on_both_screens(backend, open_tab, clip("retry.mp4", seconds=0.4))
    owner = tabs["ru"].page
    store = backend.app.state.services.store
    store.apply_event(ProgressEvent(job_id=job_id, frames_done=32, frames_total=TOTAL, fps=2.0))
    for language, tab in tabs.items():
        tab.page.goto(backend.url)
        wait_status(tab.page, "running")
        shown = stats(tab.page)
        assert shown["retry"] == "" and percent(shown["pct"]) == "43%", (language, shown)
    # The first attempt's model call timed out: attempt 2 of 5 is scheduled, the job is queued again.
    now = time.time()
    retry = RetryEvent(
        job_id=job_id, attempt=2, attempts=5, delay_s=1.0, reason="Triton infer failed: Deadline Exceeded",
        code="job.triton_call_failed", params={"call": "infer", "detail": "Deadline Exceeded"}, ts=now,
    )
    store.update(job_id, lambda job: rules.apply_retry(job, retry))  # as backend.app's event handler does
    for language, tab in tabs.items():
        wait_status(tab.page, "queued")
        page = tab.page
        page.wait_for_function("(t) => document.querySelector('#jobs .job .job-retry').textContent === t",
                               arg=RETRY[language])
        shown = stats(page)
        assert shown["pct"] == "" and "32" not in shown["frames"], shown
    # Attempt 2 runs from frame 0: the server's bar keeps 43 %, the card shows 6 of 75 = 8 % with the retry.
    store.apply_event(ProgressEvent(job_id=job_id, frames_done=6, frames_total=TOTAL, fps=2.0, ts=now + 2))
    assert owner.request.get(f"{backend.url}/api/jobs/{job_id}").json()["frames_done"] == 6
    for language, tab in tabs.items():
        page = tab.page
        wait_status(page, "running")
        page.wait_for_function("() => document.querySelector('#jobs .job .job-frames').textContent.includes('6')")
        shown = stats(page)
        assert shown["retry"] == RETRY[language]
        assert percent(shown["pct"]) == "8%", shown
        assert shown["bar"] == "8", shown
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        assert violations(page) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#jobs .job").screenshot(path=str(ARTIFACTS / f"retry-{language}.png"), animations="disabled")
    # The model server is busy: a wait that uses no attempt is said as such, then attempt 2 goes on.
    busy = RetryEvent(job_id=job_id, attempt=2, attempts=5, delay_s=1.0, reason="model server not ready",
                      infra=True, ts=now + 3)
    store.update(job_id, lambda job: rules.apply_retry(job, busy))
    for language, tab in tabs.items():
        tab.page.wait_for_function("(t) => document.querySelector('#jobs .job .job-retry').textContent === t",
                                   arg=INFRA[language])
    store.apply_event(ProgressEvent(job_id=job_id, frames_done=9, frames_total=TOTAL, fps=2.0, ts=now + 6))
    for language, tab in tabs.items():
        page = tab.page
        page.wait_for_function("() => document.querySelector('#jobs .job .job-frames').textContent.includes('9')")
        shown = stats(page)
        assert (shown["retry"], percent(shown["pct"])) == (RETRY[language], "12%"), shown
        assert tab.console.errors == []


OVERLOADED = {
    "ru": "Сервер был перегружен — продолжаем сами; попытка не расходуется",
    "en": "The server was overloaded — we carry on by ourselves; no attempt is used",
}


def test_an_overload_wait_is_said_as_no_attempt_used_and_the_next_run_starts_from_frame_zero(
    backend: Served, open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    tabs, job_id = one_job_on_both_screens(backend, open_tab, clip("overload.mp4", seconds=0.4))
    owner = tabs["ru"].page
    store = backend.app.state.services.store
    store.apply_event(ProgressEvent(job_id=job_id, frames_done=32, frames_total=TOTAL, fps=2.0, run=1))
    # What the adapter sends when a call passed its deadline while the model server answered its health
    # check (adapter/worker/queue.py): overload, a wait of run 2 that uses no attempt.
    now = time.time()
    wait = RetryEvent(job_id=job_id, attempt=1, attempts=5, delay_s=1.0, reason="The model server is overloaded",
                      code="job.model_overloaded", infra=True, run=2, ts=now)
    store.update(job_id, lambda job: rules.apply_retry(job, wait))
    api = owner.request.get(f"{backend.url}/api/jobs/{job_id}").json()
    assert api["attempt"] == 1 and api["retried"]["overloaded"] and api["retried"]["infra"], api
    for language, tab in tabs.items():
        tab.page.goto(backend.url)
        tab.page.wait_for_function("(t) => document.querySelector('#jobs .job .job-retry')?.textContent === t",
                                   arg=INFRA[language])
    # Run 2 starts from frame 0: the card says the overload was carried on, bar and frames from run 2 only.
    store.apply_event(ProgressEvent(job_id=job_id, frames_done=6, frames_total=TOTAL, fps=2.0, run=2, ts=now + 2))
    store.apply_event(ProgressEvent(job_id=job_id, frames_done=40, frames_total=TOTAL, fps=2.0, run=1, ts=now + 3))
    api = owner.request.get(f"{backend.url}/api/jobs/{job_id}").json()
    assert (api["frames_done"], api["run"]) == (6, 2), "a late event of run 1 changed nothing"
    for language, tab in tabs.items():
        page = tab.page
        wait_status(page, "running")
        page.wait_for_function("(t) => document.querySelector('#jobs .job .job-retry').textContent === t",
                               arg=OVERLOADED[language])
        shown = stats(page)
        assert percent(shown["pct"]) == "8%" and "40" not in shown["frames"], shown
        assert violations(page) == [] and tab.console.errors == []
