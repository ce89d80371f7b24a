"""Every option the page offers reaches the job through the page's own doors (issue 26), in Chromium on the
real backend: its tus upload (the page's path whenever tus-js-client loads), the quick run and the re-run,
each read back from ``GET /api/jobs/{id}``. The API-level doors (multipart too): test_option_doors.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.backend_server import Served, finish_job
from tests.fixtures.media import ClipFactory, make_still
from tests.fixtures.site import Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Every option the page offers, away from its default: what the job must say.
CHOSEN = {
    "upscale": True, "model": "realesrgan-x4plus", "scale": 2, "strength": "0.6", "hdr": "sdr",
    "container": "webp", "describe": "en", "density": "detailed",
}


def _choose(page: Any) -> None:
    """Set every option on the form as a creator would (labels and roles, not values)."""
    page.get_by_role("switch", name="Улучшить качество").check()
    page.locator("#models label", has=page.locator("input[value='realesrgan-x4plus']")).click()
    page.locator("#sizes label", has=page.locator("input[value='scale:2']")).click()
    page.locator("#strength").fill("60")
    page.locator("#hdr-choice label", has=page.locator("input[value='sdr']")).click()
    page.locator("#format-choice label", has=page.locator("input[value='webp']")).click()
    page.locator("#describe").check()
    page.locator("#describe-langs label", has=page.locator("input[value='en']")).click()
    page.locator("#describe-density").select_option("detailed")


def _new_job(page: Any, url: str, known: set[str]) -> dict[str, Any]:
    """Wait for a job that is not in ``known`` to show in the list; its JSON from the API."""
    page.wait_for_function(
        "(known) => [...document.querySelectorAll('#jobs .job')].some((c) => !known.includes(c.dataset.id))",
        arg=sorted(known),
    )
    jobs = page.request.get(f"{url}/api/jobs").json()
    fresh = [job for job in jobs if job["id"] not in known]
    assert len(fresh) == 1, fresh
    return dict(page.request.get(f"{url}/api/jobs/{fresh[0]['id']}").json())


def _seen(job: dict[str, Any]) -> dict[str, Any]:
    return {name: job[name] for name in CHOSEN}


def test_every_option_chosen_on_the_page_reaches_the_job_through_tus_the_quick_run_and_the_rerun(
    backend: Served, open_tab: Callable[..., Tab], clip: ClipFactory, tmp_path: Path
) -> None:
    tab = open_tab()
    page = tab.page
    tus_posts: list[str] = []
    page.on("request", lambda r: tus_posts.append(r.url) if r.method == "POST" and "/api/uploads" in r.url else 0)
    page.goto(backend.url)
    page.wait_for_selector("#models input")
    source = clip("options.mp4", seconds=7.0, size="96x64")

    # 1. The whole video, through the page's resumable (tus) upload.
    page.set_input_files("#file", str(source))
    _choose(page)
    page.locator("#submit").click()
    whole = _new_job(page, backend.url, set())
    assert tus_posts, "the page did not upload through tus"
    assert _seen(whole) == CHOSEN, whole
    assert whole["excerpt_start"] is None

    # 2. The quick run of the same options, from the form again.
    page.set_input_files("#file", str(source))
    _choose(page)
    page.locator("#quick").click()  # «Проверить на 5 секундах»: sends at once
    quick = _new_job(page, backend.url, {whole["id"]})
    assert _seen(quick) == CHOSEN, quick
    assert quick["excerpt_start"] is not None, "the quick run is an excerpt"

    # 3. A re-run of the first job from its card once it is done, with the options set again on its form.
    finish_job(backend, whole["id"], source, make_still(tmp_path / "b.png"), make_still(tmp_path / "a.png"))
    card = page.locator(f"#jobs .job[data-id='{whole['id']}']")
    card.get_by_role("button", name=re.compile("Запустить снова")).click()
    _choose(page)
    page.locator("#submit").click()
    again = _new_job(page, backend.url, {whole["id"], quick["id"]})
    assert _seen(again) == CHOSEN, again
    assert tab.console.errors == []
