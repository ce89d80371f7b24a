"""Before/after on video: both play on one timeline, a frame can be chosen, 1:1 shows the result's pixels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adapter.limits import Limits
from adapter.video.proxy import write_proxy
from contract.probe import probe
from tests.fixtures.creators import mpeg2_ps
from tests.fixtures.fake_api import ORIGIN, FakeApi, job
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOB = "d" * 32
# Playback on a loaded machine may lag a frame or two before the original is put back on the clock.
SYNC_S = 0.1


def test_original_and_result_play_in_sync_with_frame_choice_and_zoom(
    open_tab: Callable[..., Tab], clip: ClipFactory
) -> None:
    base = f"/api/jobs/{JOB}"
    api = FakeApi(SITE)
    api.jobs = [
        job(
            JOB,
            "done",
            progress=1.0,
            filename="walk.mp4",
            source_url=f"{base}/source",
            result_url=f"{base}/result",
            output={"width": 352, "height": 288, "frames": 100},
            input={"width": 176, "height": 144, "duration_s": 4.0, "fps": 25.0},
        )
    ]
    api.files = {
        f"{base}/source": ("video/mp4", clip("site-before.mp4", seconds=4.0).read_bytes()),
        f"{base}/result": ("video/mp4", clip("site-after.mp4", size="352x288", seconds=4.0).read_bytes()),
    }
    tab = open_tab({"width": 1280, "height": 900})
    page = tab.page
    api.install(page)
    page.goto(f"{ORIGIN}/")
    card = page.locator(f'.job[data-id="{JOB}"]')
    card.get_by_role("button", name="Смотреть результат «walk.mp4»").click()
    figure = card.locator(".vcompare")
    figure.wait_for()
    page.wait_for_function(
        "(f) => [...f.querySelectorAll('video')].every((v) => v.readyState >= 2)", arg=figure.element_handle()
    )
    figure.get_by_role("button", name="Воспроизвести оба").click()
    page.wait_for_function(
        "(f) => f.querySelector('.vcompare-after').currentTime > 1.0", arg=figure.element_handle()
    )
    state = figure.evaluate(
        "(f) => [...f.querySelectorAll('video')].map((v) => ({t: v.currentTime, paused: v.paused}))"
    )
    assert not state[0]["paused"] and not state[1]["paused"]
    assert abs(state[0]["t"] - state[1]["t"]) < SYNC_S, state
    figure.get_by_role("button", name="Пауза").click()
    # A chosen frame: both videos go to it.
    seek = figure.get_by_role("slider", name="Кадр")
    seek.focus()
    page.keyboard.press("Home")
    for _ in range(25):
        page.keyboard.press("ArrowRight")
    # Keyboard steps of the slider: 25 × 1/1000 of 4 s = 0.1 s.
    page.wait_for_function(
        "(f) => [...f.querySelectorAll('video')]"
        ".every((v) => Math.abs(v.currentTime - 0.1) < 0.05 && !v.seeking)",
        arg=figure.element_handle(),
    )
    # Frame steps (issue 26): one frame forward and back, the timecode and frame number follow.
    time = figure.locator(".vcompare-time")
    page.wait_for_function("(e) => e.textContent.endsWith('кадр 3 из 100')", arg=time.element_handle())
    figure.get_by_role("button", name="На кадр вперёд").click()
    page.wait_for_function("(e) => e.textContent === '0:00.14 / 0:04.00 · кадр 4 из 100'",
                           arg=time.element_handle())
    for _ in range(2):
        figure.get_by_role("button", name="На кадр назад").click()
    page.wait_for_function("(e) => e.textContent.endsWith('кадр 2 из 100')", arg=time.element_handle())
    page.wait_for_function(
        "(f) => [...f.querySelectorAll('video')].every((v) => Math.abs(v.currentTime - 0.06) < 0.005)",
        arg=figure.element_handle(),
    )
    # 1:1: the stage is the result's own size and the frame pans over it by keyboard.
    figure.get_by_role("button", name="1:1 — пиксель в пиксель").click()
    stage = figure.locator(".vcompare-stage").bounding_box()
    assert stage is not None and (round(stage["width"]), round(stage["height"])) == (352, 288)
    assert figure.get_by_role("button", name="Вписать в рамку").get_attribute("aria-pressed") == "true"
    assert tab.console.errors == []


def test_an_original_chromium_cannot_play_is_compared_through_its_proxy(
    open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    base = f"/api/jobs/{JOB}"
    original = mpeg2_ps(tmp_path / "dvd.mpg")
    info = probe(original, max_width=7680, max_height=4320, max_duration_s=60)
    proxy = tmp_path / "proxy.mp4"
    assert write_proxy(original, proxy, info, Limits(), lambda: False)  # the adapter's own proxy
    api = FakeApi(SITE)
    api.jobs = [
        job(
            JOB,
            "done",
            progress=1.0,
            filename="dvd.mpg",
            source_url=f"{base}/source",
            source_proxy_url=f"{base}/source/proxy",
            result_url=f"{base}/result",
            output={"width": 352, "height": 288, "frames": 25},
            input={"width": 176, "height": 144, "duration_s": 1.0, "fps": 25.0},
        )
    ]
    api.files = {
        f"{base}/source": ("video/mpeg", original.read_bytes()),
        f"{base}/source/proxy": ("video/mp4", proxy.read_bytes()),
        f"{base}/result": ("video/mp4", proxy.read_bytes()),
    }
    tab = open_tab({"width": 1280, "height": 900})
    page = tab.page
    api.install(page)
    page.goto(f"{ORIGIN}/")
    card = page.locator(f'.job[data-id="{JOB}"]')
    card.get_by_role("button", name="Смотреть результат «dvd.mpg»").click()
    figure = card.locator(".vcompare")
    figure.wait_for()
    page.wait_for_function(
        "(f) => [...f.querySelectorAll('video')].every((v) => v.readyState >= 2)", arg=figure.element_handle()
    )
    assert figure.locator(".vcompare-before").get_attribute("src") == f"{base}/source/proxy"
    assert figure.is_visible()
    # The original itself stays downloadable as it was uploaded.
    assert ("GET", f"{base}/source") not in api.requests
    assert tab.console.errors == []
