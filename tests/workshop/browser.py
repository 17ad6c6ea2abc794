"""A real headless Chromium for page tests (Debian's chromium + chromium-driver, Selenium).

Outside CI a missing browser skips the test and says what to install; in CI (`CI=true`, where
`.ci/run` installs it) a missing browser fails the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("KMSLAB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KMSLAB_CHROMEDRIVER", shutil.which("chromedriver") or "")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
)


def missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)"
    if not CHROMEDRIVER or not Path(CHROMEDRIVER).exists():
        return "no chromedriver on PATH (apt-get install -y chromium chromium-driver)"
    return None


def require_browser() -> None:
    why = missing()
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test needs a browser in CI: {why}")
    pytest.skip(why)


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, driven by Selenium."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, tmp_path: Path, name: str) -> Path:
    """Save a screenshot in the test's tmp dir and under test-output/ (kept for CI artifacts)."""
    root = Path(__file__).resolve().parents[2] / "test-output"
    root.mkdir(exist_ok=True)
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path)), "the browser saved no screenshot"
    shutil.copy(path, root / path.name)
    return path
