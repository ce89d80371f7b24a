"""Acceptance: the page in Chromium against the real stack (Triton on CPU, adapters, backend, RabbitMQ)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devops.local import Stack
from tests.fixtures.media import ClipFactory, ffprobe
from tests.fixtures.site import DESKTOP, MOBILE, Tab, job_card
from tests.fixtures.stack import FRAME_DELAY_MS, STACK_MODEL

pytestmark = [pytest.mark.browser, pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

VIEWPORTS = {"desktop": DESKTOP, "mobile": MOBILE}
FPS = 25  # the clip fixture's rate
#: The stack's throttle makes these clips' jobs run at least this long on any host; the adapter reports
#: progress every second and the page polls every second, so values strictly between 0 and 100 show.
PROGRESS_CLIP_S, CANCEL_CLIP_S = 6.0, 20.0
#: Since issue 19 a description that finds nothing adds no track: the described clip shows this title.
TITLE = "Новости"
assert PROGRESS_CLIP_S * FPS * FRAME_DELAY_MS / 1000 >= 4
assert CANCEL_CLIP_S * FPS * FRAME_DELAY_MS / 1000 >= 12
# Chromium itself logs a refused request ("Failed to load resource: ... status of 415"); only it may appear:
# the resumable upload's last PATCH (the backend checks the video once every byte is in), or a plain POST.
REFUSED_POST = re.compile(
    r"Failed to load resource: the server responded with a status of 4\d\d .*/api/(jobs|uploads/[0-9a-f]+)\)$"
)


def assert_usable(page: Any, *controls: Any) -> None:
    """Each control is visible, inside the viewport's width and would receive a click."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    for control in controls:
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert box is not None, control
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (control, box)
        control.click(trial=True)


def throttle_upload(cdp: Any, bytes_per_s: float) -> None:
    """Slow the upload down (DevTools network emulation) so its progress is visible; -1 lifts it."""
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_s})


def watch_progress(page: Any, card: Any, shot: Path, timeout_s: float = 240) -> list[int]:
    """Sample the job's progress bar until done; screenshot the first value strictly between 0 and 100."""
    values: list[int] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = card.get_attribute("data-status")
        value = int(card.get_by_role("progressbar").get_attribute("aria-valuenow") or 0)
        if not values or values[-1] != value:
            values.append(value)
            if 0 < value < 100 and not shot.exists():
                page.screenshot(path=str(shot), full_page=True, animations="disabled")
        if status == "done":
            return values
        assert status in ("queued", "running"), f"job ended as {status}: {card.inner_text()}"
        page.wait_for_timeout(150)
    raise AssertionError(f"not done in {timeout_s} s; progress seen {values}")


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_upload_progress_result_download_refusal(
    screen: str, stack: Stack, open_tab: Callable[..., Tab], clip: ClipFactory, artifacts: Path,
    tmp_path: Path,
) -> None:
    tab = open_tab(VIEWPORTS[screen])
    page = tab.page
    name = f"site-{screen}.mp4"
    source = clip(name, seconds=PROGRESS_CLIP_S)
    shot = lambda step: str(artifacts / f"{screen}-{step}.png")  # noqa: E731

    for old in artifacts.glob(f"{screen}-*.png"):
        old.unlink()
    page.goto(stack.base_url)
    page.wait_for_selector("#models input")
    assert_usable(page, page.locator("#lang-switch"), page.locator("#pick"),
                  page.locator('label[for="enhance"]'), page.locator('label[for="describe"]'))
    page.screenshot(path=shot("1-empty"), full_page=True, animations="disabled")

    page.set_input_files("#file", str(source))
    page.wait_for_function("() => document.querySelector('#picked-meta').textContent.includes('176×144')")
    page.get_by_role("switch", name="Улучшить качество").check()
    model = page.locator(f'#models input[value="{STACK_MODEL}"]')
    model.check()
    page.get_by_role("radio", name="×4", exact=True).check()
    assert page.locator("#size-out").inner_text() == "Получится 704×576"
    assert page.locator("#estimate").inner_text()
    submit = page.get_by_role("button", name="Загрузить и улучшить")
    assert_usable(page, model.locator("xpath=.."), page.locator("#sizes .segment").last, submit,
                  page.locator("#remove-file"))
    page.screenshot(path=shot("2-upload"), full_page=True, animations="disabled")

    # About 2 s of upload for the clip, so the bytes-sent bar is seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttle_upload(cdp, max(16 * 1024, source.stat().st_size // 2))
    submit.click()
    page.wait_for_function(
        "() => { const v = +document.querySelector('.upload-bar').getAttribute('aria-valuenow');"
        " return v > 0 && v < 100; }"
    )
    assert re.match(r"Отправлено [\d,]+ КБ из [\d,]+ КБ", page.locator(".upload-text").inner_text())
    assert_usable(page, page.locator(".upload-cancel"))
    page.screenshot(path=shot("3-sending"), full_page=True, animations="disabled")
    card = job_card(page, name)
    card.wait_for()
    throttle_upload(cdp, -1)
    cdp.detach()
    assert "загружено" in page.locator("#upload-message").inner_text()

    values = watch_progress(page, card, artifacts / f"{screen}-4-progress.png")
    assert values == sorted(values), f"progress went backwards: {values}"
    assert any(0 < v < 100 for v in values), f"no intermediate progress seen: {values}"
    assert values[-1] == 100
    assert card.locator(".badge").inner_text() == "Готово"

    card.get_by_role("button", name=re.compile("Смотреть результат")).click()
    # One viewer (issue 26): the original and the result on one timeline; the stills only where it cannot play.
    figure = card.locator(".vcompare")
    page.wait_for_function("(f) => [...f.querySelectorAll('video')].every((v) => v.readyState >= 1)",
                           arg=figure.element_handle())
    assert card.locator(".compare").is_hidden()
    slider = figure.locator(".vcompare-range")
    slider.focus()
    for _ in range(15):
        page.keyboard.press("ArrowLeft")
    assert slider.input_value() == "35"
    assert card.locator(".vcompare-after").evaluate("(v) => getComputedStyle(v).clipPath") == \
        "inset(0px 0px 0px 35%)"
    # The viewer plays the result itself (the separate player only for a description's track).
    video = card.locator(".vcompare-after")
    page.wait_for_function("(v) => v.readyState >= 2", arg=video.element_handle())
    assert video.evaluate("(v) => [v.videoWidth, v.videoHeight]") == [704, 576]
    assert card.locator(".player").is_hidden()
    # The speed just measured now feeds the model's line and the time estimate.
    assert "кадр/с" in page.locator(f'#models input[value="{STACK_MODEL}"] ~ .choice-body').inner_text()
    download_link = card.get_by_role("link", name=re.compile("Скачать"))
    # The video itself takes no pointer (the split's range lies over it): its controls are what is clicked.
    assert_usable(page, slider, figure.locator(".vcompare-play"), figure.locator(".vcompare-next"),
                  figure.locator(".vcompare-zoom"), download_link, card.locator(".job-open"),
                  card.locator(".job-delete"))
    figure.scroll_into_view_if_needed()
    page.screenshot(path=shot("5-result"), full_page=True, animations="disabled")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == f"site-{screen}_upscaled.mp4"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    streams = ffprobe(saved)["streams"]
    picture = next(s for s in streams if s["codec_type"] == "video")
    assert (picture["width"], picture["height"]) == (704, 576)
    assert any(s["codec_type"] == "audio" for s in streams), "the result lost its sound"

    # Client-side refusal: not even sent.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n")
    page.set_input_files("#file", str(notes))
    assert "не видео" in page.locator("#file-error").inner_text()
    assert page.locator("#submit").is_disabled()
    # Server-side refusal: a text file dressed as .mp4 passes the page's checks and is refused by the backend.
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is text, not a video\n" * 20)
    page.set_input_files("#file", str(fake))
    submit.click()
    message = page.locator("#upload-message")
    page.wait_for_function(
        "() => document.querySelector('#upload-message').textContent.includes('Ответ сервера')"
    )
    assert re.search(r"Сервер не (принял файл|смог обработать)", message.inner_text()), message.inner_text()
    assert_usable(page, message)
    message.scroll_into_view_if_needed()
    page.screenshot(path=shot("6-refused"), full_page=True, animations="disabled")

    job_id = card.get_attribute("data-id")
    card.get_by_role("button", name=re.compile("Удалить")).click()
    page.locator("#confirm").get_by_role("button", name="Удалить").click()
    card.wait_for(state="detached")
    # The page's own cookie (a fresh client would get 404 for any job of another owner anyway).
    assert page.request.get(f"{stack.base_url}/api/jobs/{job_id}").status == 404

    unexpected = [error for error in tab.console.errors if not REFUSED_POST.search(error)]
    assert unexpected == []
    assert len(tab.console.errors) - len(unexpected) <= 1


def test_cancel_a_running_job(stack: Stack, open_tab: Callable[..., Tab], clip: ClipFactory,
                              artifacts: Path) -> None:
    tab = open_tab(DESKTOP)
    page = tab.page
    name = "site-long.mp4"
    page.goto(stack.base_url)
    page.wait_for_selector("#models input")
    page.set_input_files("#file", str(clip(name, seconds=CANCEL_CLIP_S)))
    page.get_by_role("switch", name="Улучшить качество").check()
    page.locator(f'#models input[value="{STACK_MODEL}"]').check()
    page.get_by_role("radio", name="×2", exact=True).check()
    page.get_by_role("button", name="Загрузить и улучшить").click()
    card = job_card(page, name)
    # Cancelled only once seen mid-way (0 < progress < 100), so the stop hits a running job.
    page.wait_for_function(
        "(c) => { const v = +c.querySelector('[role=progressbar]').getAttribute('aria-valuenow');"
        " return c.dataset.status === 'running' && v > 0 && v < 100; }",
        arg=card.element_handle(), timeout=120_000,
    )
    assert re.search(r"\d+ кадр/с", card.locator(".job-stats").inner_text())
    card.get_by_role("button", name=re.compile("Остановить")).click()
    page.locator("#confirm").get_by_role("button", name="Остановить").click()
    page.wait_for_function("(c) => c.dataset.status === 'cancelled'", arg=card.element_handle())
    assert card.locator(".badge").inner_text() == "Отменено"
    assert card.get_by_role("button", name=re.compile("Удалить")).is_visible()
    page.screenshot(path=str(artifacts / "desktop-7-cancelled.png"), full_page=True, animations="disabled")
    job_id = card.get_attribute("data-id")
    assert page.request.get(f"{stack.base_url}/api/jobs/{job_id}").json()["status"] == "cancelled"
    assert tab.console.errors == []


def test_audio_description_without_upscaling(
    stack: Stack, open_tab: Callable[..., Tab], clip: ClipFactory, artifacts: Path, tmp_path: Path,
) -> None:
    tab = open_tab(DESKTOP)
    page = tab.page
    name = "site-described.mp4"
    page.goto(stack.base_url)
    page.wait_for_selector("#models input")
    page.set_input_files("#file", str(clip(name, seconds=2.0, title=TITLE)))
    page.wait_for_function("() => document.querySelector('#picked-meta').textContent.includes('176×144')")
    page.get_by_role("switch", name="Тифлокомментарии (описание сцен для незрячих)").check()
    page.get_by_role("radio", name="Русский").check()
    page.get_by_role("switch", name="Улучшить качество").uncheck()
    submit = page.get_by_role("button", name="Загрузить и добавить описание")
    assert_usable(page, page.locator('label[for="describe"]'), page.locator("#describe-langs .segment").last,
                  submit)
    page.screenshot(path=str(artifacts / "desktop-8-describe.png"), full_page=True, animations="disabled")
    submit.click()
    card = job_card(page, name)
    card.wait_for()
    assert card.locator(".job-described").inner_text() == "Тифлокомментарии: русский"
    values = watch_progress(page, card, artifacts / "desktop-9-describing.png", timeout_s=180)
    assert values[-1] == 100 and values == sorted(values), values
    assert "без увеличения" in card.locator(".job-meta").inner_text()

    card.get_by_role("button", name=re.compile("Смотреть результат")).click()
    track = card.locator(".result-video track")
    assert track.evaluate("(t) => [t.kind, t.srclang]") == ["descriptions", "ru"]
    # readyState 2 = LOADED: Chromium fetched and parsed the WebVTT (3 would be ERROR).
    page.wait_for_function("(t) => t.readyState === 2", arg=track.element_handle())
    assert card.locator(".compare").is_hidden(), "a description-only job has no before/after"
    vtt_link = card.get_by_role("link", name=re.compile(r"Описание \(\.vtt\)"))
    assert_usable(page, vtt_link, card.locator(".result-video"))
    page.screenshot(path=str(artifacts / "desktop-10-described.png"), full_page=True, animations="disabled")

    with page.expect_download() as vtt_info:
        vtt_link.click()
    assert vtt_info.value.suggested_filename == "site-described.vtt"
    vtt = tmp_path / "described.vtt"
    vtt_info.value.save_as(vtt)
    cues = vtt.read_text(encoding="utf-8")
    assert cues.startswith("WEBVTT")
    assert TITLE in cues, cues
    assert track.evaluate("(t) => t.track.cues.length") == cues.count(" --> ")
    with page.expect_download() as video_info:
        card.get_by_role("link", name=re.compile("Скачать «")).click()
    assert video_info.value.suggested_filename == "site-described_described.mp4"
    saved = tmp_path / "described.mp4"
    video_info.value.save_as(saved)
    audio = [s for s in ffprobe(saved)["streams"] if s["codec_type"] == "audio"]
    assert len(audio) == 2, "original sound plus the description track"
    assert audio[1]["disposition"]["visual_impaired"] == 1

    job_id = card.get_attribute("data-id")
    assert page.request.delete(f"{stack.base_url}/api/jobs/{job_id}").status == 204
    assert tab.console.errors == []
