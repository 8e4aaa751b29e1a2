"""A real Chromium (the system's, never a downloaded one) driving the frontend of a whole running stack.

Screenshots of every step go to ``test-artifacts/browser/``. Without ``/usr/bin/chromium`` the tests try
``apt-get install chromium`` (root on Debian only) and are skipped, with the reason, when that fails.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import FAST
from tests.support.processes import ROOT
from tests.support.stack import start_stack

CHROMIUM = "/usr/bin/chromium"
# Fonts with Chinese glyphs make the screenshots readable; the pages work without them.
APT_PACKAGES = ("chromium", "fonts-wqy-microhei")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
COMMISSION = "1.50"
LOGIN_FAILURES_ALLOWED = 3  # per mobile, before user-center answers 429
VIEWPORT = {"width": 1200, "height": 800}


def _install_chromium() -> str:
    """Install the distribution's Chromium; '' when done, else why it could not be."""
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return "apt-get is not available to root on this machine"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], env=env, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
            done = subprocess.run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], env=env,
                                  capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return "apt-get install chromium timed out"
    return "" if done.returncode == 0 else "apt-get install chromium failed: " + done.stderr.strip()[-300:]


@pytest.fixture(scope="session")
def chromium():
    """Playwright's driver on the system's Chromium; skips when the browser cannot be had."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        why = _install_chromium()
        if why or not Path(CHROMIUM).exists():
            pytest.skip(f"{CHROMIUM} is missing and could not be installed: {why or 'not found after install'}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(chromium, infra, tmp_path_factory):
    """Every service and worker as real processes, with a withdraw commission so that it shows."""
    running = start_stack(infra, tmp_path_factory.mktemp("stack"), settings={
        **FAST, "WITHDRAW_COMMISSION": COMMISSION, "LOGIN_MAX_FAILURES_PER_MOBILE": LOGIN_FAILURES_ALLOWED})
    yield running
    running.stop()


class Screenshots:
    """Numbered full-page screenshots of each step, kept as test artefacts (``<prefix>NN-<step>.png``)."""

    def __init__(self, folder: Path, prefix: str = ""):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.prefix = folder, prefix
        self.taken: list[Path] = []

    def __call__(self, page, name: str) -> Path:
        path = self.folder / f"{self.prefix}{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture(scope="module")
def shots() -> Screenshots:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return Screenshots(ARTIFACTS)


@pytest.fixture
def page(chromium):
    """A fresh browser tab (own cookies and sessionStorage) whose script errors fail the test."""
    context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors
