"""The documentation's JavaScript and HTML blocks run in Chromium, against tests/apps/docs.py.

Each block is served in a page of its own by ``/_docs/block`` (after a
prelude that records ``console.log`` in ``window.docsLog`` and defines the
helpers examples call, such as ``readToken``); see tests/docs_blocks.py for
the convention. A block passes when the page throws nothing and logs no
error, and its ``.. docs-test: after`` check (a JavaScript expression) comes
true; a block without a check must let a socket request round-trip after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page

from flask_sockpub.testing import LiveServer, live_server
from tests.browser.conftest import WAIT_MS
from tests.docs_blocks import JAVASCRIPT, ROOT, Block, pages

BLOCKS = [
    block for page in pages() for block in page.blocks
    if block.language in JAVASCRIPT and not block.node and block.not_run is None
]  # fmt: skip


@pytest.fixture(scope="module")
def docs_server() -> Iterator[LiveServer]:
    with live_server("tests.apps.docs:create_app") as server:
        yield server


def test_the_docs_have_browser_blocks() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.where)
def test_block_runs_in_the_browser(
    block: Block, docs_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    errors: list[str] = []

    def watch(page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            # Chromium asks every page for a favicon, which the app has not.
            if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"
            ):
                errors.append(message.text)

        page.on("console", on_console)

    page = open_page("about:blank")
    watch(page)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(
        f"{docs_server.url}/_docs/block?page={block.page.relative_to(ROOT)}&line={block.line}"
    )
    if block.after:
        for check in block.after:
            page.wait_for_function(check.strip(), timeout=WAIT_MS)
    else:
        page.evaluate("() => window.socket ? window.socket.get('/echo', {message: 'after'}) : null")
    assert not errors, f"{block.where}:\n{block.code}\n{errors}"
