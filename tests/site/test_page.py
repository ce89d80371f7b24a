"""The page's own logic in real Chromium, against a scripted API (tests/fixtures/fake_api.py)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest

from tests.fixtures.fake_api import FakeApi, job
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import (
    DESCRIBE_SWITCH,
    DESCRIBED_ID,
    DONE_ID,
    FAILED_ID,
    MOBILE,
    RUNNING_ID,
    SITE,
    SPOKEN_ID,
    Tab,
    all_jobs,
    card,
    described_jobs,
    open_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

def field(body: bytes, name: str) -> str | None:
    """The value of one multipart form field, or None when it was not sent."""
    found = re.search(rb'name="' + name.encode() + rb'"\r\n\r\n([^\r]*)\r\n', body)
    return None if found is None else found.group(1).decode()


def test_russian_by_default_english_remembered(open_tab: Callable[..., Tab]) -> None:
    tab = open_page(open_tab, FakeApi(SITE))
    page = tab.page
    assert page.evaluate("document.documentElement.lang") == "ru"
    assert page.locator("h1").inner_text() == "Улучшение качества видео"
    assert page.get_by_role("switch", name="Улучшить качество").is_visible()
    assert "Быстрая / анимация" in page.locator("#models").inner_text()

    page.get_by_role("button", name="Switch the page to English").click()
    assert page.locator("h1").inner_text() == "Video quality enhancement"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Fast / animation" in page.locator("#models").inner_text()
    page.reload()
    page.wait_for_selector("#models input")
    assert page.locator("h1").inner_text() == "Video quality enhancement"
    assert page.get_by_role("switch", name="Improve quality").is_visible()
    assert tab.console.errors == []


def test_every_control_is_labelled_and_options_wait_for_the_switch(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    # Real-CUGAN Pro ships only ×2/×3 and the no-denoise set only ×2: each family still gets one entry.
    api.config["models"] += [
        {"id": model, "scale": int(model[-1]), "title_ru": model, "title_en": model}
        for model in ("realcugan-pro-x2", "realcugan-pro-x3", "realcugan-nose-x2")
    ]
    tab = open_page(open_tab, api)
    page = tab.page
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, a, video')].filter((el) => {
            const named = el.getAttribute('aria-label') || (el.labels && el.labels.length) ||
                el.textContent.trim() || el.getAttribute('aria-labelledby');
            return !named && el.closest('template') === null;
        }).map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    # One model per family at that family's largest scale: the smaller variants are an inside detail.
    offered = page.locator("#models input").evaluate_all("inputs => inputs.map((input) => input.value)")
    assert offered == [
        "realesr-animevideov3-x4",
        "realesrgan-x4plus",
        "realcugan-pro-x3",
        "realcugan-nose-x2",
    ]
    # Upscaling starts on, so a picked file can be sent at once; the reason to wait is beside the button.
    assert page.locator("#enhance").is_checked()
    assert page.locator("#options input").first.is_enabled()
    assert page.locator("#submit").is_disabled()
    assert "выберите видео" in page.locator("#submit-hint").inner_text().lower()
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")  # language
    page.keyboard.press("Tab")  # file picker
    assert page.evaluate("document.activeElement.id") == "file"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "enhance"
    page.keyboard.press("Space")
    assert not page.locator("#enhance").is_checked()
    assert page.locator("#options input").first.is_disabled()
    page.keyboard.press("Space")
    assert page.locator("#enhance").is_checked()
    # The description switch and its language radios are reachable by keyboard as well.
    page.keyboard.press("Space")
    assert not page.locator("#enhance").is_checked()
    describe = page.get_by_role("switch", name=DESCRIBE_SWITCH)
    assert page.get_by_role("radio", name="English").is_disabled()
    describe.focus()
    page.keyboard.press("Space")
    assert describe.is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "ru"  # the page language is preselected
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("radio", name="English").is_checked()
    assert tab.console.errors == []


def test_client_side_checks_refuse_before_sending(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    tab = open_page(open_tab, api)
    page = tab.page
    error = page.locator("#file-error")

    page.set_input_files("#file", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    assert "не видео" in error.inner_text()
    assert ".mp4".upper().lstrip(".") in error.inner_text()
    page.set_input_files("#file", {"name": "huge.mp4", "mimeType": "video/mp4", "buffer": b"0" * 600_000})
    assert "Файл весит 586 КБ, а можно не больше 488 КБ." in error.inner_text()
    page.set_input_files("#file", {"name": "empty.mov", "mimeType": "video/quicktime", "buffer": b""})
    assert "пустой" in error.inner_text()
    page.get_by_role("switch", name="Улучшить качество").check()
    assert page.locator("#submit").is_disabled()
    assert not any(method == "POST" for method, _ in api.requests)
    assert tab.console.errors == []


def test_drag_and_drop_chooses_the_file(open_tab: Callable[..., Tab], clip: ClipFactory) -> None:
    tab = open_page(open_tab, FakeApi(SITE))
    page = tab.page
    data = base64.b64encode(clip("site-small.mp4", seconds=2.0).read_bytes()).decode()
    transfer = page.evaluate_handle(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.mp4", { type: "video/mp4" }));
            return transfer;
        }""",
        data,
    )
    page.dispatch_event("#drop", "dragover", {"dataTransfer": transfer})
    assert "drop-over" in (page.get_attribute("#drop", "class") or "")
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    assert page.locator("#picked-name").inner_text() == "dropped.mp4"
    page.wait_for_function("document.querySelector('#picked-meta').textContent.includes('176×144')")
    assert "drop-over" not in (page.get_attribute("#drop", "class") or "")
    assert tab.console.errors == []


def test_expected_time_and_sizes_come_from_the_clip(open_tab: Callable[..., Tab], clip: ClipFactory) -> None:
    api = FakeApi(SITE)
    tab = open_page(open_tab, api)
    page = tab.page
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.wait_for_function("document.querySelector('#picked-meta').textContent.includes('176×144')")
    page.get_by_role("switch", name="Улучшить качество").check()
    assert page.locator("#size-out").inner_text() == "Получится 352×288"
    # 2 s × 25 frames/s (read from the clip by the browser) ÷ 10 frames/s (recent_fps) = 5 s.
    estimate = page.locator("#estimate").inner_text()
    assert "Ожидаемое время обработки: 5 с" in estimate and "частоте кадров ролика" in estimate
    page.get_by_role("radio", name="720p").click()
    assert page.locator("#size-out").inner_text() == "Получится 880×720"

    # A second pick adds to the list; removing all first makes the next file the only one.
    page.get_by_role("button", name="Убрать файл").click()
    assert page.evaluate("document.activeElement.id") == "file"
    page.set_input_files("#file", str(clip("site-480.mp4", size="640x480", seconds=1.0)))
    page.wait_for_function("document.querySelector('#picked-meta').textContent.includes('640×480')")
    assert page.locator('#sizes input[value="height:480"]').is_disabled()
    assert page.locator('#sizes input[value="height:720"]').is_enabled()
    assert tab.console.errors == []


def test_server_refusal_in_plain_words_and_options_sent(
    open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    api = FakeApi(SITE, upload_answer=(415, {"detail": "The file has no video stream.",
                                            "code": "media.no_video_stream", "params": {}}))
    tab = open_page(open_tab, api)
    page = tab.page
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.get_by_role("switch", name="Улучшить качество").check()
    page.get_by_role("radio", name="1080p").click()
    page.get_by_role("radio", name=re.compile("Универсальная")).click()
    page.locator("#submit").click()
    message = page.locator("#upload-message")
    message.wait_for(state="visible")
    assert "Сервер не принял файл" in message.inner_text()
    assert "Ответ сервера: В файле нет видеодорожки." in message.inner_text()
    body = api.uploads[-1]
    assert b'name="height"\r\n\r\n1080' in body
    assert b'name="model"\r\n\r\nrealesrgan-x4plus' in body
    assert b'name="scale"' not in body

    api.upload_answer = (413, {"detail": "the file is larger than the limit of 500000 bytes"})
    page.locator("#submit").click()
    page.wait_for_function(
        "document.querySelector('#upload-message').textContent.includes('слишком большой')"
    )
    page.get_by_role("button", name="Switch the page to English").click()
    assert "The file is too large" in message.inner_text()
    # Chromium reports the refused POSTs themselves; nothing else may appear.
    assert [e for e in tab.console.errors if "status of 41" not in e] == []


def test_description_with_or_without_upscaling_sends_its_fields(
    open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    api = FakeApi(SITE)
    tab = open_page(open_tab, api)
    page = tab.page
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.wait_for_function("document.querySelector('#picked-meta').textContent.includes('176×144')")
    submit = page.locator("#submit")
    page.get_by_role("switch", name="Улучшить качество").uncheck()
    assert submit.is_disabled()
    hint = page.locator("#submit-hint").inner_text()
    assert "Улучшить качество" in hint and "Тифлокомментарии" in hint

    # Description alone: the size options stay off and are not sent.
    page.get_by_role("switch", name=DESCRIBE_SWITCH).check()
    assert submit.is_enabled() and submit.inner_text() == "Загрузить и добавить описание"
    assert not page.locator("#submit-hint").is_visible()
    assert page.locator("#options input").first.is_disabled()
    assert "Время описания зависит от длины ролика" in page.locator("#estimate").inner_text()
    page.get_by_role("radio", name="English").check()
    queued = job(SPOKEN_ID, "queued", filename="site-small.mp4", upscale=False, describe="en")
    api.upload_answer = (201, queued)
    api.jobs.insert(0, queued)  # the list polled after the upload has it too
    submit.click()
    page.wait_for_function("document.querySelector('#upload-message').textContent.includes('загружено')")
    body = api.uploads[-1]
    assert (field(body, "upscale"), field(body, "describe")) == ("false", "en")
    assert [field(body, name) for name in ("model", "scale", "height")] == [None, None, None]
    spoken = card(page, SPOKEN_ID)
    assert "без увеличения" in spoken.locator(".job-meta").inner_text()
    assert spoken.locator(".job-described").inner_text() == "Тифлокомментарии: английский"

    # Both stages: the estimate names the extra description time.
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.wait_for_function("document.querySelector('#picked-meta').textContent.includes('176×144')")
    page.get_by_role("switch", name="Улучшить качество").check()
    assert submit.inner_text() == "Загрузить и улучшить"
    estimate = page.locator("#estimate").inner_text()
    assert "Ожидаемое время обработки: 5 с + описание сцен" in estimate and "добавят время" in estimate
    page.get_by_role("radio", name="Русский").check()
    queued = job(DESCRIBED_ID, "queued", filename="site-small.mp4", describe="ru")
    api.upload_answer = (201, queued)
    api.jobs.insert(0, queued)
    submit.click()
    page.wait_for_function(
        "(id) => document.querySelector(`.job[data-id='${id}'] .job-described`)", arg=DESCRIBED_ID,
    )
    body = api.uploads[-1]
    assert [field(body, n) for n in ("upscale", "describe", "model", "scale")] == \
        ["true", "ru", "realesr-animevideov3-x4", "2"]

    # Upscaling alone sends no description.
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.get_by_role("switch", name=DESCRIBE_SWITCH).uncheck()
    page.wait_for_function("!document.querySelector('#submit').disabled")
    assert "описание" not in page.locator("#estimate").inner_text()
    # A reason without a code: no English on the Russian page, a pointer to the English one instead.
    api.upload_answer = (422, {"detail": "scripted"})
    submit.click()
    page.locator("#upload-message").get_by_text("переключите страницу на English").wait_for()
    assert (field(api.uploads[-1], "upscale"), field(api.uploads[-1], "describe")) == ("true", None)

    page.get_by_role("button", name="Switch the page to English").click()
    assert page.get_by_role("switch", name="Audio description for blind and low-vision viewers").is_visible()
    assert page.locator(".job-described").first.inner_text() == "Audio description: Russian"
    assert [e for e in tab.console.errors if "status of 422" not in e] == []


def test_described_result_has_track_cues_and_vtt_link(
    open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    api = described_jobs(FakeApi(SITE), clip("site-result.mp4", size="352x288", seconds=1.0))
    tab = open_page(open_tab, api)
    page = tab.page
    both = card(page, DESCRIBED_ID)
    assert both.locator(".job-described").inner_text() == "Тифлокомментарии: русский"
    assert "→ 352×288" in both.locator(".job-meta").inner_text()
    link = both.get_by_role("link", name="Описание (.vtt) для «lecture.vtt»")
    assert link.get_attribute("href") == f"/api/jobs/{DESCRIBED_ID}/vtt"
    assert link.get_attribute("download") == "lecture.vtt"
    assert link.inner_text() == "Описание (.vtt)"

    both.get_by_role("button", name=re.compile("Смотреть результат")).click()
    track = both.locator(".result-video track")
    assert track.evaluate("(t) => [t.kind, t.srclang, t.label, t.getAttribute('src')]") == \
        ["descriptions", "ru", "Тифлокомментарии (русский)", f"/api/jobs/{DESCRIBED_ID}/vtt"]
    page.wait_for_function("(t) => t.track.cues && t.track.cues.length === 1", arg=track.element_handle())
    assert "второй звуковой дорожке" in both.locator(".player-note").inner_text()
    # The spoken cue is shown (and read by a live region) while its time is on screen.
    video = both.locator(".result-video")
    page.wait_for_function("(v) => v.readyState >= 1", arg=video.element_handle())
    # The scripted API serves no byte ranges, so the clip is played (muted) rather than seeked.
    video.evaluate("(v) => { v.muted = true; return v.play(); }")
    cue = both.locator(".player-cue")
    cue.get_by_text("Человек в центре кадра.").wait_for()
    assert cue.get_attribute("aria-live") == "polite"
    # Once the video ends the cue goes (issue 26: it stayed under the player).
    page.wait_for_function("(v) => v.ended", arg=video.element_handle(), timeout=30_000)
    cue.wait_for(state="hidden")
    assert video.get_attribute("aria-label") == "Улучшенное видео «lecture.mp4»"

    alone = card(page, SPOKEN_ID)
    assert alone.locator(".job-meta").inner_text().startswith("176×144 · без увеличения")
    download = alone.get_by_role("link", name=re.compile("Скачать «"))
    assert download.get_attribute("download") == "walk_described.mp4"
    alone.get_by_role("button", name=re.compile("Смотреть результат")).click()
    assert alone.locator(".compare").is_hidden()
    assert alone.locator(".result-video track").evaluate("(t) => t.srclang") == "en"
    assert alone.locator(".result-video").get_attribute("aria-label") == "Видео «walk.mov» с описанием"
    assert tab.console.errors == []


def test_jobs_in_every_state_cancel_and_delete_confirmed(
    open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    api = all_jobs(clip("site-result.mp4", size="352x288", seconds=1.0))
    tab = open_page(open_tab, api)
    page = tab.page
    page.wait_for_selector(f'.job[data-id="{DONE_ID}"]')
    badges = page.locator(".job .badge").all_inner_texts()
    assert badges == ["Обрабатывается", "В очереди", "Ошибка", "Отменено", "Готово"]
    running = card(page, RUNNING_ID)
    assert running.get_by_role("progressbar").get_attribute("aria-valuenow") == "42"
    stats = running.locator(".job-stats").inner_text()
    assert "42" in stats and "13 кадр/с" in stats and "осталось ≈ 8 с" in stats and "кадр 21 из 50" in stats
    assert "Причина: Видео повреждено, его не удалось декодировать." in card(page, FAILED_ID).inner_text()

    polls = sum(1 for method, path in api.requests if (method, path) == ("GET", "/api/jobs"))
    page.wait_for_timeout(2500)
    assert sum(1 for r in api.requests if r == ("GET", "/api/jobs")) >= polls + 2, "not polled while active"

    running.get_by_role("button", name=re.compile("Остановить")).click()
    dialog = page.locator("#confirm")
    assert dialog.is_visible() and "Остановить обработку?" in dialog.inner_text()
    dialog.get_by_role("button", name="Остановить").click()
    page.wait_for_function(
        "(c) => c.querySelector('.badge').textContent === 'Отменено'", arg=running.element_handle()
    )
    assert ("DELETE", f"/api/jobs/{RUNNING_ID}") in api.requests

    failed = card(page, FAILED_ID)
    failed.get_by_role("button", name=re.compile("Удалить")).click()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert ("DELETE", f"/api/jobs/{FAILED_ID}") not in api.requests
    failed.get_by_role("button", name=re.compile("Удалить")).click()
    dialog.get_by_role("button", name="Удалить").click()
    failed.wait_for(state="detached")
    assert ("DELETE", f"/api/jobs/{FAILED_ID}") in api.requests
    assert tab.console.errors == []


def test_comparison_slider_moves_by_keyboard(open_tab: Callable[..., Tab], clip: ClipFactory) -> None:
    api = all_jobs(clip("site-result.mp4", size="352x288", seconds=1.0))
    tab = open_page(open_tab, api)
    page = tab.page
    done = card(page, DONE_ID)
    done.get_by_role("button", name=re.compile("Смотреть результат")).click()
    slider = done.get_by_role("slider")
    slider.wait_for()
    done.locator(".compare").evaluate(
        "(figure) => Promise.all([...figure.querySelectorAll('img')].map((img) => img.decode()))"
    )
    assert done.locator(".compare-after").evaluate("(img) => img.naturalWidth") == 352
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert slider.get_attribute("aria-valuetext") == "55% до, 45% после"
    clip_path = done.locator(".compare-after").evaluate("(img) => getComputedStyle(img).clipPath")
    assert clip_path == "inset(0px 0px 0px 55%)"
    page.keyboard.press("Home")
    assert slider.input_value() == "0"
    assert done.locator(".job-download").get_attribute("download") == f"{DONE_ID[:6]}_upscaled.mp4"
    video = done.locator(".result-video")
    page.wait_for_function("(v) => v.readyState >= 1", arg=video.element_handle())
    assert video.evaluate("(v) => [v.videoWidth, v.videoHeight]") == [352, 288]
    assert tab.console.errors == []


def test_narrow_screen_keeps_every_control_inside(open_tab: Callable[..., Tab], clip: ClipFactory) -> None:
    result = clip("site-result.mp4", size="352x288", seconds=1.0)
    api = described_jobs(all_jobs(result), result)
    tab = open_page(open_tab, api, MOBILE)
    page = tab.page
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.get_by_role("switch", name="Улучшить качество").check()
    page.get_by_role("switch", name=DESCRIBE_SWITCH).check()
    card(page, DONE_ID).locator(".job-open").click()
    card(page, DESCRIBED_ID).locator(".job-open").click()
    page.wait_for_selector(".job-result:not([hidden]) .compare-range")
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    selector = "button, a, label.switch, .choice, .segment, .compare-range, video"
    controls = page.locator(selector).filter(visible=True)
    assert controls.count() > 20
    for index in range(controls.count()):
        control = controls.nth(index)
        box = control.bounding_box()
        assert box is not None
        inside = box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"] + 0.5
        assert inside, control.evaluate("e => e.outerHTML")
    assert tab.console.errors == []


def test_job_errors_and_refusals_are_shown_by_code_in_the_page_language(
    open_tab: Callable[..., Tab], clip: ClipFactory,
) -> None:
    api = FakeApi(SITE)
    api.jobs = [
        job(FAILED_ID, "failed", error="Gave up after 6 attempts: every one ended without a result.",
            error_code="job.gave_up", error_params={"attempts": 6}),
        # A code this page's catalogue does not have: the Russian page names the code, never the English text.
        job("b" * 32, "failed", error="An English reason from the future.", error_code="job.from_the_future"),
    ]
    api.upload_answer = (415, {"detail": "The file has no video stream.", "code": "media.no_video_stream",
                               "params": {}})
    tab = open_page(open_tab, api)
    page = tab.page
    failed = card(page, FAILED_ID).locator(".job-note")
    expect_text = "document.querySelector(`.job[data-id='{}'] .job-note`)?.textContent.includes({!r})"
    page.wait_for_function(expect_text.format(FAILED_ID, "Не получилось за 6 попыток"))
    assert failed.inner_text() == "Причина: Не получилось за 6 попыток: ни одна не дала результата."
    unknown = card(page, "b" * 32).locator(".job-note")
    assert unknown.inner_text() == "Причина: Сервер сообщил о проблеме (код job.from_the_future)."

    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.get_by_role("switch", name="Улучшить качество").check()
    page.locator("#submit").click()
    message = page.locator("#upload-message")
    message.get_by_text("Ответ сервера: В файле нет видеодорожки.").wait_for()

    page.get_by_role("button", name="Switch the page to English").click()
    assert failed.inner_text() == "Reason: Gave up after 6 attempts: every one ended without a result."
    assert unknown.inner_text() == "Reason: An English reason from the future."
    assert "Server says: The file has no video stream." in message.inner_text()
    assert [e for e in tab.console.errors if "status of 415" not in e] == []


def test_quota_refusals_are_shown_in_both_languages(open_tab: Callable[..., Tab], clip: ClipFactory) -> None:
    api = FakeApi(SITE)
    api.upload_answer = (429, {
        "detail": "You have uploaded 20 videos in the last hour; try again in 1200 s.",
        "code": "quota.uploads_per_hour", "params": {"limit": 20, "retry_after_s": 1200},
    })
    tab = open_page(open_tab, api)
    page = tab.page
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.get_by_role("switch", name="Улучшить качество").check()
    page.locator("#submit").click()
    message = page.locator("#upload-message")
    message.get_by_text(
        "Ответ сервера: Вы загрузили 20 видео за последний час; попробуйте снова через 1200 с."
    ).wait_for()
    page.get_by_role("button", name="Switch the page to English").click()
    assert "Server says: You have uploaded 20 videos in the last hour; try again in 1200 s." in (
        message.inner_text()
    )
    assert "You have reached your limit." in message.inner_text(), "a quota has its own heading"

    api.upload_answer = (507, {
        "detail": "Your videos take 900 of your 1000 bytes; delete some to upload this one.",
        "code": "quota.storage", "params": {"used_bytes": 900, "limit_bytes": 1000},
    })
    page.locator("#submit").click()
    message.get_by_text("Server says: Your videos take 900 of your 1000 bytes").wait_for()
    page.get_by_role("button", name="Переключить страницу на русский").click()
    assert "Ваши видео занимают 900 из 1000 байт; удалите часть" in message.inner_text()
    assert "закончилось место" not in message.inner_text(), "the creator's quota is not the server's disk"
    assert [e for e in tab.console.errors if "status of 429" not in e and "status of 507" not in e] == []


def test_a_waiting_job_shows_its_queue_place_in_both_languages(open_tab: Callable[..., Tab]) -> None:
    placed, unknown, next_one, old = "b" * 32, "c" * 32, "1" * 32, "2" * 32
    api = FakeApi(SITE)
    api.jobs = [
        job(placed, "queued", queue={"position": 3, "starts_in_s": 240}),
        job(unknown, "queued", queue={"position": 2, "starts_in_s": None}),
        job(next_one, "queued", queue={"position": 1, "starts_in_s": 0}),
        job(old, "queued"),  # a backend without the fair queue sends no place
    ]
    tab = open_page(open_tab, api)
    page = tab.page
    page.wait_for_selector(f'.job[data-id="{old}"]')
    assert "Вы 3-й в очереди, начнётся через ≈ 4 мин" in card(page, placed).inner_text()
    assert "Вы 2-й в очереди" in card(page, unknown).inner_text()
    assert "начнётся вот-вот" in card(page, next_one).inner_text()
    assert "Ждёт свободного обработчика" in card(page, old).inner_text()
    page.get_by_role("button", name="Switch the page to English").click()
    assert "Number 3 in the queue, starts in ≈ 4 min" in card(page, placed).inner_text()
    assert tab.console.errors == []


def test_a_done_job_lists_what_was_changed_in_both_languages(open_tab: Callable[..., Tab]) -> None:
    api = FakeApi(SITE)
    notes = [
        {"code": "note.deinterlaced_field", "params": {"fps": 50.0}},
        {"code": "note.timeline_shifted", "params": {"seconds": 11.395}},
    ]
    api.jobs = [
        job("d" * 32, "done", progress=1.0, output={"width": 352, "height": 288, "frames": 50}, notes=notes),
        job("e" * 32, "done", progress=1.0, output={"width": 352, "height": 288, "frames": 50}),
    ]
    tab = open_page(open_tab, api)
    page = tab.page
    listed = card(page, "d" * 32).locator(".job-notes li")
    listed.first.wait_for()
    assert listed.all_inner_texts() == [
        "Видео было чересстрочным: каждое поле стало кадром (50 кадров/с).",
        "Видео начиналось с 11.395 с; теперь оно начинается с 0 (звук синхронен).",
    ]
    assert card(page, "e" * 32).locator(".job-notes").is_hidden()
    page.get_by_role("button", name="Switch the page to English").click()
    assert listed.first.inner_text() == "The video was interlaced: each field became a frame (50 frames/s)."
    assert tab.console.errors == []


def test_hdr_and_output_format_are_sent_only_when_chosen(
    open_tab: Callable[..., Tab], clip: ClipFactory
) -> None:
    api = FakeApi(SITE, upload_answer=(415, {"detail": "The file has no video stream.",
                                            "code": "media.no_video_stream", "params": {}}))
    tab = open_page(open_tab, api)
    page = tab.page
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    page.get_by_role("switch", name="Улучшить качество").check()
    page.locator("#submit").click()
    page.locator("#upload-message").wait_for(state="visible")
    assert b'name="hdr"' not in api.uploads[-1] and b'name="container"' not in api.uploads[-1]
    page.get_by_role("radio", name="Сделать SDR").check()
    page.get_by_role("radio", name="GIF").check()
    assert "GIF и WebP сохраняют прозрачность" in page.locator("#format-choice + .hint").inner_text()
    api.upload_answer = (413, {"detail": "the file is larger than the limit of 500000 bytes"})
    page.locator("#submit").click()
    page.wait_for_function(
        "document.querySelector('#upload-message').textContent.includes('слишком большой')"
    )
    assert b'name="hdr"\r\n\r\nsdr' in api.uploads[-1]
    assert b'name="container"\r\n\r\ngif' in api.uploads[-1]
    page.get_by_role("button", name="Switch the page to English").click()
    assert page.get_by_role("radio", name="Make SDR").is_checked()
