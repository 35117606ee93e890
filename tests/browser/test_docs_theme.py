"""The documentation's theme: the project's name reads on one line, in a browser, at a laptop's width."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import DOCS, SCREENSHOTS

NAME = "flask_sockpub"

#: The lines a text occupies, counted by the browser's own layout.
LINES_OF = """
(element) => {
  const range = document.createRange();
  range.selectNodeContents(element.firstChild);
  const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
  return tops.size;
}
"""


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs-html")
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(DOCS), str(out)],
        check=True,
        timeout=300,
    )
    return out


@pytest.mark.parametrize("width", [1280, 900, 420])
def test_the_project_name_is_on_one_line_on_the_index_page(
    built_docs: Path, open_page: Callable[..., Page], width: int
) -> None:
    page = open_page((built_docs / "index.html").as_uri())
    page.set_viewport_size({"width": width, "height": 800})
    names = page.locator(f"h1:has-text('{NAME}'), a:text-is('{NAME}')")
    assert names.count() >= 3  # the page's title, the sidebar's, the navigation bar's
    sidebar_name = page.locator(f".sphinxsidebar a:text-is('{NAME}')")
    assert sidebar_name.count() == 1
    if width >= 900:  # narrower, the theme moves the sidebar below the page
        assert sidebar_name.is_visible()
    for index in range(names.count()):
        element = names.nth(index)
        if element.is_visible():
            assert element.evaluate(LINES_OF) == 1, element.inner_html()
    assert "flask.css" in page.content()  # the Pallets theme Flask's docs use
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"docs-index-{width}.png"))
