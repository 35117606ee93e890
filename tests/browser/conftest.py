"""Browser tests: the demo pages and the SDK in headless Chromium, driven by Playwright.

The browser is Debian's ``chromium`` package (``scripts/test`` installs it),
never one Playwright downloads. One browser serves the whole session; each
test gets fresh pages in a fresh context (cookies, storage). Every wait is
bounded (:data:`WAIT_MS`); no test asserts how long anything took.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from flask_sockpub.serving.sdk import BUILD_COMMAND, BUNDLE
from flask_sockpub.testing import LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: The longest any browser test waits for something to show (milliseconds).
WAIT_MS = 5000
ROOT = Path(__file__).resolve().parents[2]
#: Where the docs' screenshots of the demos are; only ``scripts/screenshots``
#: (``SOCKPUB_UPDATE_SCREENSHOTS=1``) writes there.
DOCS = ROOT / "docs"
#: Where a test run's screenshots go (ignored by git).
SCREENSHOTS = ROOT / "build" / "screenshots"
#: Set (to ``1``) by ``scripts/screenshots``: update the docs' pictures.
UPDATE_SCREENSHOTS = "SOCKPUB_UPDATE_SCREENSHOTS"

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole session."""
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does: "
        "apt-get install -y chromium)"
    )
    assert BUNDLE.is_file(), (
        f"the browser SDK is not built: run `{BUILD_COMMAND}` (scripts/test does)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Make a fresh browser profile (cookies, storage): another visitor."""
    contexts: list[BrowserContext] = []

    def make_context() -> BrowserContext:
        context = browser.new_context(viewport={"width": 900, "height": 640})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context

    yield make_context
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[[], BrowserContext]) -> BrowserContext:
    """The test's first visitor."""
    return new_context()


@pytest.fixture
def open_page(context: BrowserContext) -> Iterator[Callable[..., Page]]:
    """``open_page(url, context=None)``: a new page (tab) of ``context`` (default: the
    first visitor's). An error thrown on any of the pages fails the test."""
    errors: list[str] = []

    def open_url(url: str, in_context: BrowserContext | None = None) -> Page:
        page = (in_context or context).new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.goto(url)
        return page

    yield open_url
    assert not errors, f"errors on the pages: {errors}"


def demo_server(name: str, tmp_path: Path) -> Iterator[LiveServer]:
    """examples/<name> served like ``scripts/demo <name>`` does, on a database of its own."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / (name + '.sqlite')}"}
    with live_server(f"examples.{name}.app:create_app", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The echo demo (with the welcome page)."""
    yield from demo_server("echo", tmp_path_factory.mktemp("echo"))


@pytest.fixture(scope="module")
def todo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The todo demo (the README's demo command)."""
    yield from demo_server("todo", tmp_path_factory.mktemp("todo"))


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The chat demo."""
    yield from demo_server("chat", tmp_path_factory.mktemp("chat"))


@pytest.fixture(scope="session")
def pages_server() -> Iterator[LiveServer]:
    """tests/apps/browser.py: the test pages of tests/browser/pages/ and what they talk to."""
    with live_server("tests.apps.browser:create_app") as server:
        yield server


def wait_until_connected(page: Page) -> None:
    """Wait until the page's global socket is connected."""
    page.wait_for_function("() => window.socket && socket.isConnected()", timeout=WAIT_MS)


#: Compares two PNGs (data URLs) in the browser: whether they have the same
#: size and no channel of any pixel differs by more than ``tolerance``.
SAME_PICTURE_JS = """async ([first, second, tolerance]) => {
  const load = (src) => new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = reject;
    image.src = src;
  });
  const pixels = (image) => {
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return context.getImageData(0, 0, image.width, image.height).data;
  };
  const [a, b] = await Promise.all([load(first), load(second)]);
  if (a.width !== b.width || a.height !== b.height) return false;
  const [pa, pb] = [pixels(a), pixels(b)];
  return pa.every((value, index) => Math.abs(value - pb[index]) <= tolerance);
}"""


def keep_screenshot(page: Page, name: str) -> Path:
    """Screenshot ``page`` as ``name``; the path written.

    A test run writes into build/screenshots/ and leaves the tracked
    pictures alone. With ``SOCKPUB_UPDATE_SCREENSHOTS=1`` (what
    ``scripts/screenshots`` sets) it writes into docs/ instead, which the docs
    show, unless the picture there differs from the new one by no more than
    Chromium's anti-aliasing varies from run to run.
    """
    picture = page.screenshot()
    if os.environ.get(UPDATE_SCREENSHOTS) != "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        path.write_bytes(picture)
        return path
    path = DOCS / name
    if path.exists():
        checker = page.context.new_page()
        try:
            if checker.evaluate(
                SAME_PICTURE_JS, [data_url(path.read_bytes()), data_url(picture), 8]
            ):
                return path
        finally:
            checker.close()
    path.write_bytes(picture)
    return path


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
