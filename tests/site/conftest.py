"""Fixtures for the page tests: Debian's Chromium through Playwright, console capture, screenshot folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.services import require
from tests.fixtures.site import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, Console, Tab

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian (never a downloaded one)."""
    require(CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed in the venv")
        raise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_tab(browser: Any) -> Iterator[Callable[..., Tab]]:
    """Factory of fresh tabs (own context, so own localStorage) at a viewport size, in ru-RU by default."""
    contexts: list[Any] = []

    def factory(viewport: dict[str, int] | None = None, **options: Any) -> Tab:
        # The page takes the browser's language first: a tab speaks Russian unless the test names a locale.
        options.setdefault("locale", "ru-RU")
        context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        console = Console()
        console.attach(page)
        return Tab(page, console)

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/site/ (ignored by git): screenshots of each step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
