"""One result viewer that fits any video (issue 26), in real Chromium against the real backend app: a
portrait 9:16 result with its controls on screen in ru 1280×900 and en 390×844, no horizontal scroll in
any state (1:1 included), frame steps with a timecode, axe clean; its share link opens the watch page in
a fresh browser, where the job API stays 404.

The backend runs under uvicorn without a broker; the test finishes the job as an adapter would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.axe import violations
from tests.fixtures.backend_server import Served, finish_job
from tests.fixtures.media import ClipFactory, make_still
from tests.fixtures.site import ARTIFACTS, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = "portrait.mp4"
SCREENS: dict[str, dict[str, Any]] = {
    "ru": {
        "viewport": {"width": 1280, "height": 900},
        "locale": "ru-RU",
        "open": f"Смотреть результат «{NAME}»",
        "zoom": "1:1 — пиксель в пиксель",
        "fit": "Вписать в рамку",
        "next": "На кадр вперёд",
        "back": "На кадр назад",
        "frame": "кадр {n} из 50",
        "sound": "Звук",
        "share": f"Поделиться результатом «{NAME}»",
        "download": f"Скачать видео «{NAME}»",
    },
    "en": {
        "viewport": {"width": 390, "height": 844},
        "locale": "en-US",
        "open": f"Watch the result of “{NAME}”",
        "zoom": "1:1 — pixel for pixel",
        "fit": "Fit the frame",
        "next": "One frame forward",
        "back": "One frame back",
        "frame": "frame {n} of 50",
        "sound": "Sound",
        "share": f"Share the result of “{NAME}”",
        "download": f"Download the video “{NAME}”",
    },
}


def no_sideways_scroll(page: Any) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


def fits(page: Any, top: Any, bottom: Any) -> None:
    """From ``top``'s top to ``bottom``'s bottom is on screen at once, and inside the screen's width."""
    top.scroll_into_view_if_needed()
    page.evaluate("(e) => e.scrollIntoView({block: 'start'})", top.element_handle())
    first, last = top.bounding_box(), bottom.bounding_box()
    assert first is not None and last is not None
    size = page.viewport_size
    assert last["y"] + last["height"] - first["y"] <= size["height"], (first, last, size)
    assert first["y"] >= -0.5 and last["y"] + last["height"] <= size["height"] + 0.5, (first, last)
    for box in (first, last):
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5, box


def wait_videos(page: Any, figure: Any) -> None:
    page.wait_for_function("(f) => [...f.querySelectorAll('video')].every((v) => v.readyState >= 2)",
                           arg=figure.element_handle())


def test_a_portrait_result_fits_with_its_controls_and_its_watch_link_plays_for_a_stranger(
    backend: Served, open_tab: Callable[..., Tab], clip: ClipFactory, tmp_path: Path,
) -> None:
    source = clip("portrait-in.mp4", size="144x256", seconds=2.0)
    result = clip("portrait-out.mp4", size="288x512", seconds=2.0)
    before, after = make_still(tmp_path / "before.jpg", size="144x256"), make_still(tmp_path / "after.jpg",
                                                                                    size="288x512")
    tabs = {language: open_tab(texts["viewport"], locale=texts["locale"]) for language, texts in SCREENS.items()}
    owner = tabs["ru"].page
    owner.goto(backend.url)
    made = owner.request.post(f"{backend.url}/api/jobs", multipart={
        "file": {"name": NAME, "mimeType": "video/mp4", "buffer": source.read_bytes()}})
    assert made.status == 201, made.text()
    job_id = made.json()["id"]
    finish_job(backend, job_id, result, before, after)
    tabs["en"].page.context.add_cookies(owner.context.cookies())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    links = {}
    for language, tab in tabs.items():
        texts, page = SCREENS[language], tab.page
        page.goto(backend.url)
        card = page.locator(f'#jobs .job[data-id="{job_id}"]')
        card.get_by_role("button", name=texts["open"]).click()
        figure = card.locator(".vcompare")
        wait_videos(page, figure)
        assert card.locator(".compare").is_hidden(), "one viewer: the stills only where the videos cannot play"
        assert card.locator(".player").is_hidden(), "one viewer: it plays the result, with its sound"
        sound = figure.get_by_role("button", name=texts["sound"])
        sound.click()
        assert sound.get_attribute("aria-pressed") == "true"
        assert figure.locator(".vcompare-after").evaluate("(v) => v.muted") is False
        assert figure.locator(".vcompare-before").evaluate("(v) => v.muted") is True
        # The picture and its controls are on screen together; nothing scrolls sideways.
        frame, controls = figure.locator(".vcompare-frame"), figure.locator(".vcompare-controls")
        fits(page, frame, controls)
        box = frame.bounding_box()
        assert box is not None and abs(box["width"] / box["height"] - 288 / 512) < 0.02, box
        no_sideways_scroll(page)
        # Frame steps with the timecode.
        time = figure.locator(".vcompare-time")
        figure.get_by_role("button", name=texts["next"]).click()
        page.wait_for_function("(a) => a[0].textContent.endsWith(a[1])",
                               arg=[time.element_handle(), texts["frame"].format(n=2)])
        figure.get_by_role("button", name=texts["next"]).click()
        figure.get_by_role("button", name=texts["back"]).click()
        page.wait_for_function("(a) => a[0].textContent === a[1]",
                               arg=[time.element_handle(), "0:00.06 / 0:02.00 · " + texts["frame"].format(n=2)])
        assert violations(page) == [], language
        page.screenshot(path=str(ARTIFACTS / f"viewer-{language}.png"), animations="disabled")
        # 1:1: the result's own pixels pan inside the column; the page never widens.
        figure.get_by_role("button", name=texts["zoom"]).click()
        assert figure.get_by_role("button", name=texts["fit"]).get_attribute("aria-pressed") == "true"
        stage = figure.locator(".vcompare-stage").bounding_box()
        assert stage is not None and (round(stage["width"]), round(stage["height"])) == (288, 512)
        no_sideways_scroll(page)
        fits(page, frame, controls)
        assert violations(page) == [], f"{language} 1:1"
        page.screenshot(path=str(ARTIFACTS / f"viewer-{language}-1to1.png"), animations="disabled")
        figure.get_by_role("button", name=texts["fit"]).click()
        no_sideways_scroll(page)
        card.get_by_role("button", name=texts["share"]).click()
        link = card.locator(".job-share-link")
        link.wait_for()
        links[language] = link.input_value()
        assert tab.console.errors == []

    # The share link, opened in a fresh browser of each language: the watch page, portrait and all.
    for language, url in links.items():
        texts = SCREENS[language]
        assert re.fullmatch(re.escape(backend.url) + r"/w/[A-Za-z0-9_-]{43}", url), url
        stranger = open_tab(texts["viewport"], locale=texts["locale"])
        page = stranger.page
        page.goto(url)
        video = page.locator("#watch-video")
        page.wait_for_function("(v) => v.readyState >= 2", arg=video.element_handle())
        assert page.locator("h1").inner_text() == NAME
        assert page.evaluate("document.documentElement.lang") == language
        download = page.get_by_role("link", name=texts["download"])
        assert "download=1" in str(download.get_attribute("href"))
        fits(page, video, video)
        no_sideways_scroll(page)
        page.locator("#watch-compare .compare-after").evaluate("(img) => img.decode()")
        assert violations(page) == [], f"watch page {language}"
        page.screenshot(path=str(ARTIFACTS / f"watch-{language}.png"), full_page=True, animations="disabled")
        assert page.request.get(f"{backend.url}/api/jobs/{job_id}").status == 404, "the job stays the owner's"
        assert stranger.console.errors == []
