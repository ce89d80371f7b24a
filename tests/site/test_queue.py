"""The page's own upload queue in real Chromium against the real backend app (issue 26): any number of
files, those past the owner's active-job limit wait on the page and go by themselves when a slot frees;
the limit is shown with the others; a duplicate pick is refused in words; a refused file is never offered
for resume; Russian plurals come from one rule.

The backend runs under uvicorn without a broker, so the jobs stay queued (active) until the test cancels
them through the API, as the owner would from another tab.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.settings import Settings
from tests.fixtures.axe import violations
from tests.fixtures.backend_server import Served, serve
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import ARTIFACTS, SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIMIT = 5
FILES = 9
#: Each language's texts of the queue, with the screen the issue's acceptance names for it.
SCREENS: dict[str, dict[str, Any]] = {
    "ru": {
        "viewport": {"width": 1280, "height": 900},
        "locale": "ru-RU",
        "limit": "до 5 задач одновременно",
        "queue": "Ждёт очереди: {n}",
        "held": "Ждёт свободного места — отправится сам",
        "duplicate": "«q9.mp4» уже загружается — второй раз не добавлен.",
        "picked": "«extra.mp4» уже выбран — второй раз не добавлен.",
        "submit": "Загрузить и улучшить",
        "remove": "Убрать файл",
    },
    "en": {
        "viewport": {"width": 390, "height": 844},
        # The browser's language decides when the page has no remembered choice.
        "locale": "en-US",
        "limit": "up to 5 jobs at a time",
        "queue": "Waiting: {n}",
        "held": "Waiting for a free slot — goes by itself",
        "duplicate": "“q9.mp4” is already being uploaded — not added twice.",
        "picked": "“extra.mp4” is already picked — not added twice.",
        "submit": "Upload and enhance",
        "remove": "Remove the file",
    },
}


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Served]:
    """The real backend app with an active-job limit of 5 (its default, set here so the test says it)."""
    settings = Settings(
        STORAGE_ROOT=tmp_path / "storage", DATABASE_URL=f"sqlite:///{tmp_path / 'backend.db'}",
        RUN_DIR=tmp_path / "run", SITE_DIR=SITE, AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F",
        QUOTA_ACTIVE_JOBS=LIMIT,
    )
    with serve(settings) as served:
        yield served


def server_jobs(page: Any, base: str) -> list[dict[str, Any]]:
    answer = page.request.get(f"{base}/api/jobs")
    assert answer.status == 200, answer.text()
    jobs: list[dict[str, Any]] = answer.json()
    return jobs


def cancel_active(page: Any, base: str, count: int) -> None:
    """Cancel ``count`` of the owner's active jobs through the API (as another tab would)."""
    active = [job for job in server_jobs(page, base) if job["status"] in ("queued", "running")]
    assert len(active) >= count, active
    for job in active[:count]:
        assert page.request.delete(f"{base}/api/jobs/{job['id']}").status == 200


def queue_text(page: Any) -> str:
    return str(page.evaluate("() => { const q = document.querySelector('#upload-queue');"
                             " return q.hidden ? '' : q.textContent; }"))


def wait_cards(page: Any, count: int) -> None:
    page.wait_for_function("(n) => document.querySelectorAll('#jobs .job').length === n", arg=count)


@pytest.mark.parametrize("language", list(SCREENS))
def test_nine_files_with_a_limit_of_five_wait_on_the_page_and_go_by_themselves(
    language: str, limited: Served, open_tab: Callable[..., Tab], clip: ClipFactory, tmp_path: Path,
) -> None:
    texts = SCREENS[language]
    tab = open_tab(texts["viewport"], locale=texts["locale"])
    page, base = tab.page, limited.url
    source = clip("queue.mp4", seconds=0.4)
    files = []
    for n in range(1, FILES + 1):
        files.append(tmp_path / f"q{n}.mp4")
        shutil.copy(source, files[-1])
    extra = tmp_path / "extra.mp4"
    shutil.copy(source, extra)
    page.goto(base)
    page.wait_for_selector("#models input")
    assert page.evaluate("document.documentElement.lang") == language
    # The limit is one of the limits, shown before anything is picked.
    page.wait_for_function("(text) => document.querySelector('#limits').textContent.includes(text)",
                           arg=texts["limit"])

    page.set_input_files("#file", [str(path) for path in files])
    page.wait_for_function("() => !document.querySelector('#submit').disabled")
    # Every picked file has its row: thumbnail, size, frame, length and the result's size.
    rows = page.locator("#picked-list .picked-item-meta").all_inner_texts()
    assert len(rows) == FILES and all("176×144" in row and "→ 352×288" in row for row in rows), rows
    assert page.locator("#picked-list video.picked-thumb").count() == FILES
    assert page.locator("#size-out").is_hidden()
    page.get_by_role("button", name=texts["submit"]).click()
    # Five become jobs; four wait on the page, in words, and none is refused.
    wait_cards(page, LIMIT)
    page.wait_for_function("(text) => document.querySelector('#upload-queue').textContent.startsWith(text)",
                           arg=texts["queue"].format(n=FILES - LIMIT))
    assert page.locator("#uploads .upload-text").all_inner_texts() == [texts["held"]] * (FILES - LIMIT)
    assert len(server_jobs(page, base)) == LIMIT
    usage = page.request.get(f"{base}/api/usage").json()
    assert (usage["active_jobs"], usage["active_jobs_limit"]) == (LIMIT, LIMIT)
    message = page.locator("#upload-message")
    assert len(re.findall(r"q\d\.mp4", message.inner_text())) == LIMIT and "message-error" not in str(message.get_attribute("class"))
    assert page.evaluate("document.documentElement.scrollWidth") <= texts["viewport"]["width"]
    # Progress in view: the uploads stick to the screen's bottom while the form is on it; on a phone
    # «Мои задачи» comes first once something uploads.
    page.evaluate("document.querySelector('#upload-form').scrollIntoView({block: 'start'})")
    tray = page.locator("#upload-status").bounding_box()
    assert tray is not None and tray["y"] >= 0 and tray["y"] + tray["height"] <= texts["viewport"]["height"] + 1
    jobs_card, upload_card = page.locator(".jobs-card").bounding_box(), page.locator(".upload-card").bounding_box()
    assert jobs_card is not None and upload_card is not None
    assert (jobs_card["y"] < upload_card["y"]) == (language == "en"), (jobs_card, upload_card)
    shot = ARTIFACTS / f"queue-{language}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#upload-status").scroll_into_view_if_needed()
    page.screenshot(path=str(shot), animations="disabled")

    # A duplicate pick is refused in words: a file already waiting, then one picked twice.
    error = page.locator("#file-error")
    page.set_input_files("#file", [str(files[-1])])
    error.get_by_text(texts["duplicate"]).wait_for()
    page.set_input_files("#file", [str(extra)])
    page.wait_for_function("() => !document.querySelector('#submit').disabled")
    page.set_input_files("#file", [str(extra)])
    error.get_by_text(texts["picked"]).wait_for()
    assert page.locator("#picked-list li").count() == 0, "one file stays one file"
    assert violations(page) == []
    page.get_by_role("button", name=texts["remove"]).click()

    # Slots free: the waiting files go by themselves, two, then the last two.
    cancel_active(page, base, 2)
    wait_cards(page, LIMIT + 2)
    page.wait_for_function("(text) => document.querySelector('#upload-queue').textContent.startsWith(text)",
                           arg=texts["queue"].format(n=2))
    cancel_active(page, base, 3)
    page.wait_for_function("() => document.querySelector('#upload-status').hidden")
    wait_cards(page, FILES)
    jobs = server_jobs(page, base)
    assert sorted(job["filename"] for job in jobs) == sorted(path.name for path in files)
    assert sum(job["status"] == "queued" for job in jobs) == 4
    # No upload was refused on the way (a 429 would be logged by Chromium), nothing waits for resume.
    assert page.locator("#upload-message.message-error").count() == 0
    assert page.locator("#unfinished").is_hidden()
    assert tab.console.errors == []


def test_one_plural_rule_and_a_refused_file_is_not_offered_for_resume(
    limited: Served, open_tab: Callable[..., Tab], tmp_path: Path,
) -> None:
    tab = open_tab({"width": 1280, "height": 900}, locale="ru-RU")
    page = tab.page
    page.goto(limited.url)
    page.wait_for_selector("#models input")
    forms = page.evaluate(
        """async () => {
            const i18n = await import('/i18n.js');
            const ns = [0, 1, 2, 4, 5, 11, 12, 21, 22, 25, 101, 111, 1.5];
            return {
                ru: ns.map((n) => i18n.pluralForm(n, 'ru')),
                en: ns.map((n) => i18n.pluralForm(n, 'en')),
                langs: [i18n.browserLang(['de-DE', 'en-GB']), i18n.browserLang(['fr']), i18n.browserLang(['ru-RU', 'en'])],
            };
        }"""
    )
    assert forms["ru"] == ["many", "one", "few", "few", "many", "many", "many", "one", "few", "many", "one",
                           "many", "other"]
    assert forms["en"] == ["other", "one"] + ["other"] * 11
    assert forms["langs"] == ["en", "ru", "ru"]
    # Every counted text goes through the rule: frames, the active-job limit; whole hours without "0 мин".
    texts = page.evaluate(
        """async () => {
            const i18n = await import('/i18n.js');
            const fmt = await import('/format.js');
            const say = () => [1, 2, 5, 21].map((n) => i18n.t('job.finished', { n }))
                .concat([1, 5].map((n) => i18n.t('drop.limits.active', { n })), [fmt.duration(7200)]);
            const ru = say();
            i18n.setLang('en');
            const en = say();
            i18n.setLang('ru');
            return { ru, en };
        }"""
    )
    assert texts["ru"] == ["Обработан 1 кадр", "Обработано 2 кадра", "Обработано 5 кадров", "Обработан 21 кадр",
                           "до 1 задачи одновременно", "до 5 задач одновременно", "2 ч"]
    assert texts["en"] == ["1 frame processed", "2 frames processed", "5 frames processed", "21 frames processed",
                           "up to 1 job at a time", "up to 5 jobs at a time", "2 h"]
    # Not a video: the server refuses it when its last byte is in; the page drops the resumable upload.
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all " * 64)
    page.set_input_files("#file", str(fake))
    page.wait_for_function("() => !document.querySelector('#submit').disabled")
    page.locator("#submit").click()
    page.wait_for_function("() => document.querySelector('#upload-message').classList.contains('message-error')")
    page.wait_for_function("() => !Object.keys(localStorage).some((k) => k.startsWith('tus::'))")
    page.reload()
    page.wait_for_selector("#models input")
    assert page.locator("#unfinished").is_hidden()
    refused = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d .*/api/uploads/")
    assert [e for e in tab.console.errors if not refused.search(e)] == []
