"""Headless Chromium through Selenium, for tests that read the pages as a person does.

Debian's ``chromium`` and ``chromium-driver`` are used as installed (nothing is downloaded).
Without them the browser tests skip, or fail under ``AMENDS_REQUIRE_BROWSER=1`` (CI).
Selenium's calls block, so tests run them in a thread while the bot serves on the loop.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REQUIRE_BROWSER = os.environ.get("AMENDS_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = (390, 844)


def _found() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_browser(width: int = 1200, height: int = 900) -> webdriver.Chrome:
    found = _found()
    if found is None:
        message = "headless Chromium is not installed (apt-get install chromium chromium-driver)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    browser, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def browser_session(width: int = 1200, height: int = 900) -> Iterator[webdriver.Chrome]:
    chrome = start_browser(width, height)
    try:
        yield chrome
    finally:
        chrome.quit()


def screenshot(chrome: webdriver.Chrome, name: str) -> Path:
    """Save what the browser shows as a test artifact and print where."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    chrome.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path
