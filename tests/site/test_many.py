"""The upload form with several files, remembered choices, checks before sending and focus (issue 15)."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable

import pytest

from contract.catalogue import as_json
from tests.fixtures.fake_api import ORIGIN, FakeApi, job
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SWITCH = "Улучшить качество"


def open_page(open_tab: Callable[..., Tab], api: FakeApi) -> Tab:
    tab = open_tab({"width": 1280, "height": 900})
    api.install(tab.page)
    tab.page.goto(f"{ORIGIN}/")
    tab.page.wait_for_selector("#models input")
    return tab


def drop(page: object, files: dict[str, bytes]) -> None:
    """Drop ``files`` (name → bytes) on the drop zone at once, as a desktop file manager does."""
    encoded = {name: base64.b64encode(data).decode() for name, data in files.items()}
    transfer = page.evaluate_handle(  # type: ignore[attr-defined]
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, data] of Object.entries(files)) {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name, { type: "video/mp4" }));
            }
            return transfer;
        }""",
        encoded,
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})  # type: ignore[attr-defined]


def test_several_dropped_files_become_one_job_each_and_the_first_card_takes_focus(
    open_tab: Callable[..., Tab],
    clip: ClipFactory,
) -> None:
    api = FakeApi(SITE, auto_jobs=True)
    # Enough older jobs that a new card would open below the fold on a 900 px screen.
    api.jobs = [
        job(
            f"{n:032x}".replace("0", "e"),
            "done",
            progress=1.0,
            filename=f"old-{n}.mp4",
            created_at="2026-01-01T10:00:00Z",
        )
        for n in range(1, 9)
    ]
    tab = open_page(open_tab, api)
    page = tab.page
    data = clip("site-small.mp4", seconds=2.0).read_bytes()
    drop(page, {"first.mp4": data, "second.mp4": data, "third.mp4": data})
    page.wait_for_function("!document.querySelector('#submit').disabled")
    assert page.locator("#picked-name").inner_text() == "Выбрано файлов: 3"
    assert page.locator("#picked-list li").count() == 3
    # One row can be removed on its own; focus stays in the list.
    page.get_by_role("button", name="Убрать «second.mp4»").click()
    assert page.locator("#picked-list li").all_inner_texts()[1].startswith("third.mp4")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Убрать «third.mp4»"
    drop(page, {"second.mp4": data})
    page.wait_for_function("!document.querySelector('#submit').disabled")
    page.locator("#submit").click()
    message = page.locator("#upload-message")
    page.wait_for_function("document.querySelectorAll('#upload-message a').length === 3")
    assert len(api.uploads) == 3
    names = sorted(re.search(rb'filename="([^"]*)"', body).group(1).decode() for body in api.uploads)  # type: ignore[union-attr]
    assert names == ["first.mp4", "second.mp4", "third.mp4"]
    for body in api.uploads:
        assert b'name="upscale"\r\n\r\ntrue' in body
    assert message.inner_text().count("загружено") == 3
    # The first job's card is on screen and holds focus; the others did not pull it away.
    focused = page.evaluate("document.activeElement.closest('.job')?.dataset.id")
    first_name = re.sub(r"^.*?«|».*$", "", message.locator("p").first.inner_text())
    first = next(item for item in api.jobs if item["filename"] == first_name)
    assert focused == first["id"]
    assert page.evaluate(
        "(() => { const r = document.activeElement.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight; })()"
    )
    # The message links to each card: following one moves focus there.
    page.keyboard.press("Shift+Tab")
    message.get_by_role("link", name=re.compile("third.mp4")).click()
    third = next(item for item in api.jobs if item["filename"] == "third.mp4")
    assert page.evaluate("document.activeElement.closest('.job')?.dataset.id") == third["id"]
    assert tab.console.errors == []


def test_choices_are_remembered_with_upscaling_on_by_default(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    tab = open_page(open_tab, api)
    page = tab.page
    assert page.get_by_role("switch", name=SWITCH).is_checked()
    assert page.locator("#submit-hint").inner_text() == "Сначала выберите видео."
    page.get_by_role("radio", name=re.compile("Универсальная")).check()
    page.get_by_role("radio", name="1080p").check()
    page.get_by_role("switch", name=re.compile("Тифлокомментарии")).check()
    page.get_by_role("radio", name="English").check()
    page.reload()
    page.wait_for_selector("#models input")
    assert page.get_by_role("radio", name=re.compile("Универсальная")).is_checked()
    assert page.get_by_role("radio", name="1080p").is_checked()
    assert page.get_by_role("switch", name=re.compile("Тифлокомментарии")).is_checked()
    assert page.get_by_role("radio", name="English").is_checked()
    # Both switched off: the disabled button says why, right beside it.
    page.get_by_role("switch", name=SWITCH).uncheck()
    page.get_by_role("switch", name=re.compile("Тифлокомментарии")).uncheck()
    page.reload()
    page.wait_for_selector("#models input")
    assert not page.get_by_role("switch", name=SWITCH).is_checked()
    page.set_input_files("#file", {"name": "a.mp4", "mimeType": "video/mp4", "buffer": b"x" * 100})
    page.wait_for_function("document.querySelector('#submit-hint').textContent.includes('Включите')")
    assert page.locator("#submit").is_disabled()
    assert page.locator("#submit").get_attribute("aria-describedby") == "submit-hint"
    hint, button = page.locator("#submit-hint").bounding_box(), page.locator("#submit").bounding_box()
    assert hint and button and abs(hint["y"] + hint["height"] - button["y"]) < 20  # right above the button
    assert tab.console.errors == []


def test_over_the_limits_is_refused_before_any_byte_is_sent(
    open_tab: Callable[..., Tab],
    clip: ClipFactory,
) -> None:
    api = FakeApi(SITE, auto_jobs=True)
    api.config.update(max_duration_s=1.5, max_width=1920, max_height=1080)
    tab = open_page(open_tab, api)
    page = tab.page
    limits = page.locator("#limits").inner_text()
    assert "до 488 КБ" in limits and "до 2 с" in limits and "кадр до 1920×1080" in limits
    assert "MP4" in limits
    files = [clip("site-long.mp4", seconds=2.0), clip("site-short.mp4", seconds=1.0)]
    page.set_input_files("#file", [str(path) for path in files])
    error = page.locator("#file-error")
    error.get_by_text("«site-long.mp4» длится 2 с, а можно не больше 1,5 с. Файл не отправлен.").wait_for()
    assert page.locator("#picked-name").inner_text() == "site-short.mp4"
    page.locator("#submit").click()
    page.wait_for_function("document.querySelector('#upload-message').textContent.includes('загружено')")
    assert len(api.uploads) == 1 and b'filename="site-short.mp4"' in api.uploads[0]
    assert tab.console.errors == []


def fill(params: dict[str, str], match: re.Match[str]) -> str:
    """A catalogue placeholder replaced by its test value (the format spec is the page's concern)."""
    return params[match.group(1)]


def test_every_reason_code_is_shown_translated_in_russian(open_tab: Callable[..., Tab]) -> None:
    catalogue = as_json()
    api = FakeApi(SITE)
    expected = {}
    for index, (code, texts) in enumerate(sorted(catalogue.items())):
        params = {name: f"p{n}" for n, name in enumerate(re.findall(r"\{(\w+)(?::[^}]*)?\}", texts["ru"]))}
        job_id = f"{index + 1:032x}"
        api.jobs.append(
            job(
                job_id,
                "failed",
                error=texts["en"],
                error_code=code,
                error_params=params,
                filename=f"{code}.mp4",
            )
        )
        ru = re.sub(r"\{(\w+)(?::[^}]*)?\}", functools.partial(fill, params), texts["ru"])
        expected[job_id] = f"Причина: {ru}"
    tab = open_page(open_tab, api)
    page = tab.page
    page.wait_for_function("document.querySelectorAll('.job .job-note').length > 0")
    # Ten cards a page: «Показать ещё» brings the next ten and moves focus to the first of them.
    more = page.locator("#jobs-more")
    while more.is_visible():
        shown_before = page.locator("#jobs .job").count()
        more.click()
        page.wait_for_function("(n) => document.querySelectorAll('#jobs .job').length > n", arg=shown_before)
        assert page.evaluate("document.activeElement.closest('.job') !== null")
    shown = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.job')].map(
            (c) => [c.dataset.id, c.querySelector('.job-note').textContent]))"""
    )
    assert len(shown) == len(expected)
    assert {k: shown[k] for k in expected} == expected
    # The page's own texts: every key in both languages.
    keys = page.evaluate(
        """async () => {
            const [ru, en] = await Promise.all([import('/texts-ru.js'), import('/texts-en.js')]);
            return [Object.keys(ru.default).sort(), Object.keys(en.default).sort()];
        }"""
    )
    assert keys[0] == keys[1]
    assert tab.console.errors == []


def test_focus_after_each_dialog(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    api.jobs = [
        job("a" * 32, "running", progress=0.4),
        job("b" * 32, "done", progress=1.0),
        job("c" * 32, "failed"),
    ]
    tab = open_page(open_tab, api)
    page = tab.page
    running = page.locator(f'.job[data-id="{"a" * 32}"]')
    stop = running.get_by_role("button", name=re.compile("Остановить"))
    stop.click()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.classList.contains('job-cancel')")
    stop.click()
    page.locator("#confirm").get_by_role("button", name="Остановить").click()
    page.wait_for_function("document.activeElement.classList.contains('job-delete')")
    assert page.evaluate("document.activeElement.closest('.job').dataset.id") == "a" * 32
    # Deleting hands focus to the next card's name; deleting the last one to the previous one.
    page.keyboard.press("Enter")
    page.locator("#confirm").get_by_role("button", name="Удалить").click()
    page.wait_for_function("document.activeElement.classList.contains('job-name')")
    assert page.evaluate("document.activeElement.closest('.job').dataset.id") == "b" * 32
    page.locator(f'.job[data-id="{"c" * 32}"]').get_by_role("button", name=re.compile("Удалить")).click()
    page.locator("#confirm").get_by_role("button", name="Удалить").click()
    page.wait_for_function(f"document.activeElement.closest('.job')?.dataset.id === '{'b' * 32}'")
    assert tab.console.errors == []
