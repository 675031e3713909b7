"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for the page tests.

No browser is downloaded: Playwright drives the system Chromium. When it is missing the
tests fail with the command that installs it; they never skip.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 360, "height": 740}


def require_chromium() -> str:
    """The Chromium binary, or a test failure that says how to install it."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(
            "Chromium is missing at /usr/bin/chromium: install it with "
            "`apt-get update && apt-get install -y chromium` (make test does this)",
            pytrace=False,
        )
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for one test."""
    executable = require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class CspWatch:
    """Collects the console's Content-Security-Policy complaints and page errors of a page."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", lambda msg: self._console(msg.type, msg.text))
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, kind: str, text: str) -> None:
        # A 400 or 429 page is an expected answer to a bad form, not a problem of the page.
        if "Content Security Policy" in text or (kind == "error" and not text.startswith("Failed to load resource")):
            self.problems.append(text)


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def scroll_width(page: Page) -> int:
    """The page's full width; at most the viewport's when nothing scrolls sideways."""
    return await page.evaluate("document.scrollingElement.scrollWidth")
