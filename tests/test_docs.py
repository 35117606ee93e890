"""The documentation's examples run: every Python block, page by page; every JSON block parses.

The convention that marks blocks (hidden setup, checks, blocks not run and
why) is in tests/docs_blocks.py; the JavaScript blocks run in Chromium in
tests/browser/test_docs_examples.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from flask_sockpub.testing import live_server
from tests.docs_blocks import JAVASCRIPT, PLACEHOLDER_URL, PYTHON, ROOT, Block, Page, pages

PAGES = pages()
BLOCKS = [block for page in PAGES for block in page.blocks]


def test_every_block_is_run_or_marked_with_a_reason() -> None:
    unmarked = [
        f"{block.where} ({block.language})"
        for block in BLOCKS
        if block.language not in PYTHON | JAVASCRIPT | {"json"}
        and not block.after
        and block.not_run is None
    ]
    assert not unmarked, (
        "blocks neither run by the tests nor marked `.. docs-test: not run: <reason>` "
        f"(see tests/docs_blocks.py): {', '.join(unmarked)}"
    )
    blank = [block.where for block in BLOCKS if block.not_run is not None and not block.not_run]
    assert not blank, f"`not run` needs a reason: {', '.join(blank)}"


def test_the_docs_have_blocks_of_every_kind() -> None:
    """A guard on the parser: if it stopped finding blocks, the other tests would pass on nothing."""
    languages = {block.language for block in BLOCKS if block.not_run is None}
    assert {"python", "javascript", "html", "json"} <= languages
    assert sum(block.language in PYTHON and block.not_run is None for block in BLOCKS) >= 25


@pytest.mark.parametrize(
    "block", [block for block in BLOCKS if block.language == "json"], ids=lambda block: block.where
)
def test_json_block_parses(block: Block) -> None:
    json.loads(block.code)


@pytest.fixture(scope="module")
def served() -> Iterator[Callable[[Page], str]]:
    """``served(page)``: the URL of the app the page asks for, served on a free port (one server per app)."""
    with ExitStack() as stack:
        servers: dict[str, str] = {}

        def url(page: Page) -> str:
            if page.serve is None:
                return PLACEHOLDER_URL
            if page.serve not in servers:
                servers[page.serve] = stack.enter_context(live_server(page.serve)).url
            return servers[page.serve]

        yield url


PYTHON_PAGES = [
    page for page in PAGES
    if any(block.language in PYTHON and block.not_run is None for block in page.blocks)
]  # fmt: skip


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda page: page.path.name)
def test_python_blocks_run(page: Page, served: Callable[[Page], str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.docs_runner", str(page.path), served(page)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


#: Around a Node block: what it prints is recorded in ``logged``, an error it
#: logs fails it, and it has 20 seconds to finish (its ``after`` check exits).
NODE_PRELUDE = """
const { format } = require("node:util");
const logged = [];
console.log = (...args) => { logged.push(format(...args)); process.stdout.write(format(...args) + "\\n"); };
console.error = (...args) => { process.exitCode = 1; process.stderr.write(format(...args) + "\\n"); };
setTimeout(() => { console.error("the block did not finish"); process.exit(1); }, 20000).unref();
"""


@pytest.mark.parametrize(
    "block", [block for block in BLOCKS if block.node], ids=lambda block: block.where
)
def test_node_block_runs(block: Block, served: Callable[[Page], str]) -> None:
    (page,) = [page for page in PAGES if block in page.blocks]
    # In a block: top-level names of a `node -e` script are global, and a
    # `const io` in its dead zone breaks sails.io.js's `typeof io`.
    code = "\n".join(["{", NODE_PRELUDE, block.code, *block.after, "}"]).replace(
        PLACEHOLDER_URL, served(page)
    )
    result = subprocess.run(
        ["node", "-e", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
