"""The sandbox in a real browser: Debian's Chromium driven by Playwright (no browser downloads).

In CI (CI=true) a missing Chromium or Playwright fails the run instead of skipping, so a green
CI always means the page was used in a browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from sandbox.server import Running, running
from storage.db import make_engine, upgrade

CHROMIUM = Path(os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def sandbox_engine(tmp_path: Path) -> Iterator[Engine]:
    """The sandbox's own default: an embedded SQLite file, migrated like the CLI does."""
    engine = make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sandbox(sandbox_engine: Engine) -> Iterator[Running]:
    # As `postmortem-bot sandbox` does: the meeting digest goes to the stand-in's #reviews.
    with running(sandbox_engine, env={"POSTMORTEM_DIGEST_CHANNEL": "C0REVIEWS"}) as page:
        yield page


@pytest.fixture
def page(browser: Any, sandbox: Running) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(sandbox.url)
    yield tab
    context.close()
    assert errors == [], f"the page's script failed: {errors}"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
