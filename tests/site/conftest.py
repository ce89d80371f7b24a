"""Fixtures for the page tests: Debian's Chromium through Playwright, console capture, screenshot folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
ARTIFACTS = ROOT / "artifacts" / "site"
CHROMIUM = Path("/usr/bin/chromium")
# The network is closed: no downloads, no phoning home, no GPU in the sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 360, "height": 740}


@dataclass
class Console:
    """Console 'error' messages and uncaught page errors of one page."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        """Start collecting from ``page``."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.errors.append(f"console: {message.text} ({url})")


@dataclass
class Tab:
    """A page with its console log."""

    page: Any
    console: Console


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
    """Factory of fresh tabs (own context, so own localStorage) at a viewport size."""
    contexts: list[Any] = []

    def factory(viewport: dict[str, int] | None = None, **options: Any) -> Tab:
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
