"""Acceptance: the page's estimate for a segmented job that follows another is within 2× of the real time.

Real stack (Triton on CPU, two adapters, backend, RabbitMQ): the first segmented job gives the model's speed
sample (all its frames over every task's processing seconds, issue 15), the second is estimated from it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from backend.settings import Settings
from devops.local import Stack
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import Tab, job_card
from tests.fixtures.stack import STACK_MODEL

pytestmark = [pytest.mark.browser, pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

#: Just long enough to be cut in two segments (a last piece under half a segment joins the one before it).
SEGMENT_S = Settings.model_fields["SEGMENT_SECONDS"].default
CLIP_S = SEGMENT_S * 1.5 + 1
#: Segments are cut by duration; a low frame rate keeps the frames (and Triton's CPU time) few.
CLIP_FPS = "5"


def estimate_s(text: str) -> int:
    """Seconds of «Ожидаемое время обработки: 1 мин 5 с — …»."""
    found = re.search(r"обработки: (?:(\d+) мин)? ?(?:(\d+) с)?", text)
    assert found and any(found.groups()), text
    minutes, seconds = (int(part or 0) for part in found.groups())
    return minutes * 60 + seconds


def submit(page: Any, source: Any) -> Any:
    """Pick ``source``, upscale it with the stack's model at ×2, send it; its card once uploaded."""
    page.set_input_files("#file", str(source))
    page.wait_for_function("() => document.querySelector('#picked-meta').textContent.includes('176×144')")
    page.get_by_role("switch", name="Улучшить качество").check()
    page.locator(f'#models input[value="{STACK_MODEL}"]').check()
    page.get_by_role("radio", name="×2", exact=True).check()
    estimate = page.locator("#estimate").inner_text()
    page.get_by_role("button", name="Загрузить и улучшить").click()
    card = job_card(page, source.name)
    card.wait_for()
    return card, estimate


def wait_done(card: Any, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while (status := card.get_attribute("data-status")) != "done":
        assert status in ("queued", "running"), f"job ended as {status}: {card.inner_text()}"
        assert time.monotonic() < deadline, f"not done in {timeout_s} s"
        card.page.wait_for_timeout(100)


def test_estimate_for_a_segmented_job_after_another_is_within_2x(
    stack: Stack, open_tab: Callable[..., Tab], clip: ClipFactory
) -> None:
    page = open_tab().page
    page.goto(stack.base_url)
    page.wait_for_selector("#models input")
    first, _ = submit(page, clip("site-estimate-1.mp4", seconds=CLIP_S, rate=CLIP_FPS))
    wait_done(first)
    page.reload()  # a fresh /api/config: the speed sample of the job just done
    page.wait_for_selector("#models input")
    second, estimate = submit(page, clip("site-estimate-2.mp4", seconds=CLIP_S, rate=CLIP_FPS, frequency=660))
    started = time.monotonic()
    wait_done(second)
    real = time.monotonic() - started
    for card in (first, second):  # both segmented, or the test would not test what it says
        job = page.request.get(f"{stack.base_url}/api/jobs/{card.get_attribute('data-id')}").json()
        assert job["segments"] >= 2, job
    promised = estimate_s(estimate)
    # Measured 2026-11-30 on the 2-core dev host: 28 s promised, 17.1 s real (the speed sample adds up the
    # seconds of segments that ran side by side on the two adapters, so it leans long).
    assert real / 2 <= promised <= real * 2, (promised, real, estimate)
