"""The strength control and the model descriptions in real Chromium, in Russian and English."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract.models import config_models
from tests.fixtures.fake_api import ORIGIN, FakeApi
from tests.fixtures.media import ClipFactory
from tests.fixtures.site import SITE, Tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_with_catalogue(open_tab: Callable[..., Tab]) -> tuple[Tab, FakeApi]:
    """The page against a fake API whose config lists the real catalogue (titles and descriptions)."""
    api = FakeApi(SITE)
    api.config["models"] = config_models()
    tab = open_tab(None)
    api.install(tab.page)
    tab.page.goto(f"{ORIGIN}/")
    tab.page.wait_for_selector("#models .choice-about")
    return tab, api


def test_each_offered_model_says_what_it_is_for_in_both_languages(open_tab: Callable[..., Tab]) -> None:
    tab, _ = open_with_catalogue(open_tab)
    page = tab.page
    labels = page.locator("#models label")
    assert labels.count() >= 2
    about = page.locator("#models label", has_text="Универсальная").locator(".choice-about")
    assert about.inner_text() == "Большая сеть для съёмки: убирает артефакты сжатия и шум, медленная на CPU."
    for index in range(labels.count()):
        assert labels.nth(index).locator(".choice-about").inner_text().strip(), index
    page.get_by_role("button", name="Switch the page to English").click()
    about = page.locator("#models label", has_text="Universal").locator(".choice-about")
    about.wait_for()
    assert about.inner_text() == "Large network for real footage: removes compression and noise, slow on CPU."
    assert tab.console.errors == []


def test_strength_slider_and_auto_are_sent_with_the_upload(
    open_tab: Callable[..., Tab], clip: ClipFactory
) -> None:
    tab, api = open_with_catalogue(open_tab)
    page = tab.page
    api.upload_answer = (415, {"detail": "refused on purpose"})
    page.set_input_files("#file", str(clip("site-small.mp4", seconds=2.0)))
    # Since issue 15 upscaling starts on (a click on its label would switch it off) and the submit
    # waits until the browser has measured the picked clip.
    page.wait_for_function("document.querySelector('#picked-meta').textContent.includes('176×144')")
    page.get_by_role("switch", name="Улучшить качество").check()
    slider, value = page.locator("#strength"), page.locator("#strength-value")
    assert value.inner_text() == "100 %" and slider.get_attribute("aria-label") == "Сила восстановления"
    slider.fill("40")
    assert value.inner_text() == "40 %"
    page.locator("#submit").click()
    page.locator("#upload-message").wait_for(state="visible")
    assert b'name="strength"\r\n\r\n0.4' in api.uploads[-1]

    page.locator('label[for="strength-auto"]').click()
    assert value.inner_text() == "авто" and slider.is_disabled()
    page.get_by_role("button", name="Switch the page to English").click()
    assert value.inner_text() == "auto" and slider.get_attribute("aria-label") == "Restoration strength"
    assert page.locator('label[for="strength-auto"]').inner_text() == "Choose from the input's quality"
    api.upload_answer = (413, {"detail": "the file is larger than the limit of 500000 bytes"})
    page.locator("#submit").click()
    page.wait_for_function("document.querySelector('#upload-message').textContent.includes('too large')")
    assert b'name="strength"\r\n\r\nauto' in api.uploads[-1]
    assert [e for e in tab.console.errors if "status of 41" not in e] == []
