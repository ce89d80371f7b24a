"""Fixtures for the page tests: Debian's Chromium through Playwright, console capture, screenshot folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.settings import Settings
from tests.fixtures.backend_server import Served, serve
from tests.fixtures.services import require
from tests.fixtures.site import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, SITE, Console, Tab


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian (never a downloaded one), one per module.

    Playwright's sync API keeps its asyncio loop running in this thread while it is open: held for the
    whole session it broke every later test of the same xdist worker that runs asyncio or Playwright itself
    (tests/backend/test_retention.py, tests/contract/test_sizing.py).
    """
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


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Served]:
    """The real backend in this process (SQLite, tus, the page); no broker: its jobs stay queued."""
    settings = Settings(
        STORAGE_ROOT=tmp_path / "storage", DATABASE_URL=f"sqlite:///{tmp_path / 'backend.db'}",
        RUN_DIR=tmp_path / "run", SITE_DIR=SITE, AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F",
    )
    with serve(settings) as served:
        yield served
