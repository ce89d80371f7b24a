"""The jobs list (newest first, filters, pages, «Очистить завершённые», long names) and re-runs (issue 15)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.fixtures.fake_api import ORIGIN, FakeApi, job
from tests.fixtures.site import SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = "Очень длинное название ролика с отпуска на море, снятого на телефон в 2025 году, версия 3 финал.mp4"
STATUSES = ["running", "queued", "done", "failed", "cancelled", "done", "done"]


def many_jobs() -> FakeApi:
    """14 jobs, newest first: two active, eight done, four that gave no result."""
    api = FakeApi(SITE)
    for n in range(14):
        status = STATUSES[n % len(STATUSES)]
        when = f"2026-01-01T10:{59 - n:02d}:00Z"
        name = LONG if n == 2 else f"clip-{n:02d}.mp4"
        extra = {"progress": 1.0, "result_url": f"/api/jobs/{n:032x}/result"} if status == "done" else {}
        api.jobs.append(
            job(
                f"{n:032x}",
                status,
                filename=name,
                created_at=when,
                updated_at=when,
                source_url=f"/api/jobs/{n:032x}/source",
                **extra,
            )
        )
    return api


def open_page(open_tab: Callable[..., Tab], api: FakeApi) -> Tab:
    tab = open_tab({"width": 1280, "height": 900})
    api.install(tab.page)
    tab.page.goto(f"{ORIGIN}/")
    tab.page.wait_for_selector("#jobs .job")
    return tab


def names(page: object) -> list[str]:
    return page.locator("#jobs .job-name").all_inner_texts()  # type: ignore[attr-defined]


def test_pages_filters_clear_finished_and_long_names(open_tab: Callable[..., Tab]) -> None:
    api = many_jobs()
    tab = open_page(open_tab, api)
    page = tab.page
    assert names(page)[:2] == ["clip-00.mp4", "clip-01.mp4"] and len(names(page)) == 10
    more = page.get_by_role("button", name=re.compile("Показать ещё"))
    assert more.inner_text() == "Показать ещё 4 (всего скрыто 4)"
    more.click()
    assert len(names(page)) == 14 and more.is_hidden()
    assert page.evaluate("document.activeElement.textContent") == "clip-10.mp4"

    # The long name: two lines at most on screen, the whole name in the tooltip and the heading's text.
    heading = page.locator("#jobs .job-name", has_text="Очень длинное")
    assert heading.get_attribute("title") == LONG and heading.text_content() == LONG
    line = float(heading.evaluate("(h) => parseFloat(getComputedStyle(h).lineHeight)"))
    assert heading.bounding_box()["height"] <= 2 * line + 1
    page.set_viewport_size({"width": 390, "height": 844})
    assert heading.bounding_box()["height"] <= 2 * line + 1
    page.set_viewport_size({"width": 1280, "height": 900})

    filters = page.locator("#jobs-filters")
    assert filters.locator("label").all_inner_texts() == [
        "Все · 14",
        "Идут · 4",
        "Готовы · 6",
        "Не вышло · 2",
        "Отменены · 2",
    ]
    page.get_by_role("radio", name="Готовы · 6").check()
    assert {page.locator(f'.job[data-id="{i:032x}"]').count() for i in (2, 5, 6)} == {1}
    assert page.locator("#jobs .badge").all_inner_texts() == ["Готово"] * 6
    page.get_by_role("radio", name="Не вышло · 2").check()
    assert page.locator("#jobs .badge").all_inner_texts() == ["Ошибка"] * 2
    # A cancelled job is the creator's choice, not an error: its own filter (issue 26).
    page.get_by_role("radio", name="Отменены · 2").check()
    assert page.locator("#jobs .badge").all_inner_texts() == ["Отменено"] * 2

    page.get_by_role("button", name="Очистить завершённые").click()
    dialog = page.locator("#confirm")
    assert "10 шт." in dialog.inner_text()
    dialog.get_by_role("button", name="Очистить").click()
    page.wait_for_function("document.activeElement.id === 'jobs-title'")
    deleted = {path for method, path in api.requests if method == "DELETE"}
    assert len(deleted) == 10
    page.get_by_role("radio", name=re.compile("Все")).check()
    page.wait_for_function("document.querySelectorAll('#jobs .job').length === 4")
    assert set(page.locator("#jobs .badge").all_inner_texts()) == {"Обрабатывается", "В очереди"}
    assert page.get_by_role("button", name="Очистить завершённые").is_hidden()
    assert tab.console.errors == []


def test_a_failed_job_runs_again_with_another_model_without_an_upload(open_tab: Callable[..., Tab]) -> None:
    api = many_jobs()
    tab = open_page(open_tab, api)
    page = tab.page
    failed = page.locator(f'.job[data-id="{3:032x}"]')
    source = failed.get_by_role("link", name=re.compile("Исходник"))
    assert source.get_attribute("href") == f"/api/jobs/{3:032x}/source?download=1"
    assert source.get_attribute("download") == "clip-03.mp4"
    assert failed.get_by_role("button", name=re.compile("Остановить")).count() == 0
    running = page.locator(f'.job[data-id="{0:032x}"]')
    assert running.get_by_role("button", name=re.compile("Запустить снова")).is_hidden()

    failed.get_by_role("button", name="Запустить снова «clip-03.mp4» с другими настройками").click()
    assert page.evaluate("document.activeElement.id") == "rerun-title"
    assert page.locator("#rerun-title").inner_text() == "Повтор «clip-03.mp4»"
    assert page.locator("#drop").is_hidden()
    page.get_by_role("radio", name=re.compile("Универсальная")).check()
    page.get_by_role("radio", name="720p").check()
    # The restoration strength is one of the settings, so a re-run carries it like an upload does.
    page.locator("#strength").fill("60")
    page.get_by_role("button", name="Запустить снова", exact=True).click()
    page.locator("#upload-message").get_by_text("«clip-03.mp4» запущено снова").wait_for()
    assert api.reruns == [(f"{3:032x}", {"upscale": True, "model": "realesrgan-x4plus", "height": 720,
                                             "strength": "0.6"})]
    assert not any(method == "POST" and path == "/api/jobs" for method, path in api.requests)
    made = api.jobs[0]
    assert page.evaluate("document.activeElement.closest('.job')?.dataset.id") == made["id"]
    assert page.locator("#rerun").is_hidden() and page.locator("#drop").is_visible()
    assert "Универсальная" in page.locator(f'.job[data-id="{made["id"]}"] .job-meta').inner_text()
    # The re-run's card says what changed (issue 26).
    changed = page.locator(f'.job[data-id="{made["id"]}"] .job-changes')
    assert changed.inner_text() == (
        "Повтор с другими настройками: модель: Быстрая / анимация → Универсальная — лучшее качество; "
        "размер: ×2 → 720p; сила: 100\u00a0% → 60\u00a0%"
    ), changed.inner_text()
    assert tab.console.errors == []


# Served (through routing, nothing listens there) from a secure context, where notifications exist.
SECURE = "http://localhost:9"

# Records the notifications the page makes (headless Chromium shows none) while keeping the real API.
RECORD_NOTES = """
window.__notes = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__notes.push(title); }
};
Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
window.Notification.requestPermission = (...args) => Real.requestPermission(...args);
"""


def test_tab_title_shows_progress_and_a_notification_says_when_a_job_ends(
    open_tab: Callable[..., Tab],
) -> None:
    api = FakeApi(SITE, origin=SECURE)
    api.jobs = [job("a" * 32, "running", progress=0.42, filename="walk.mp4"), job("b" * 32, "queued")]
    tab = open_tab({"width": 1280, "height": 900}, permissions=["notifications"])
    page = tab.page
    page.add_init_script(RECORD_NOTES)
    api.install(page)
    page.goto(f"{SECURE}/")
    page.wait_for_function("document.title.startsWith('21 %')")  # the mean of 42 % and a queued 0 %
    assert page.title() == "21 % · Студия улучшения видео"
    api.jobs[0].update(status="done", progress=1.0)
    api.jobs[1].update(status="failed")
    page.wait_for_function("document.title === 'Студия улучшения видео'")
    page.wait_for_function("window.__notes.length === 2")
    assert sorted(page.evaluate("window.__notes")) == [
        "Готово: «walk.mp4»",
        f"Не получилось: «{'b' * 6}.mp4»",
    ]
    # Permission already given: no button asks for it.
    assert page.locator("#notify").is_hidden()
    assert tab.console.errors == []


def test_the_notification_button_asks_once(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE, origin=SECURE)
    tab = open_tab({"width": 1280, "height": 900})
    api.install(tab.page)
    tab.page.goto(f"{SECURE}/")
    button = tab.page.get_by_role("button", name="Сообщить, когда будет готово")
    button.wait_for()
    button.click()  # headless Chromium answers the prompt itself (denied): the button goes either way
    tab.page.wait_for_function("document.activeElement.id === 'jobs-title'")
    assert button.is_hidden()
    assert tab.console.errors == []


def test_the_queue_place_counts_down_between_polls(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    waiting = job("a" * 32, "queued", filename="walk.mp4", queue={"position": 3, "starts_in_s": 240})
    api.jobs = [waiting]
    tab = open_page(open_tab, api)
    place = tab.page.locator(".job-frames")
    place.get_by_text("Вы 3-й в очереди, начнётся через ≈ 4 мин").wait_for()
    waiting["queue"] = {"position": 2, "starts_in_s": 100}
    place.get_by_text("Вы 2-й в очереди, начнётся через ≈ 1 мин 40 с").wait_for()
    waiting["queue"] = {"position": 1, "starts_in_s": 3}
    place.get_by_text("Вы 1-й в очереди, начнётся вот-вот").wait_for()
    waiting.update(status="running", queue=None, progress=0.1, frames_done=5)
    tab.page.locator(".badge", has_text="Обрабатывается").wait_for()
    assert tab.console.errors == []
