"""The code blocks of the documentation (docs/*.rst and README.rst), as the docs tests run them.

The convention, in reST comments (invisible in the built docs), each applying
to the code block that follows it (``after``: that precedes it)::

    .. docs-test: not run: <one-line reason>
    .. docs-test: setup
       <hidden code run just before the block, in its language>
    .. docs-test: after
       <hidden code run just after the block: checks of what it did; a
       Python block's printed output is in ``printed``>
    .. docs-test: fresh
    .. docs-test: node

- Python blocks (``python``, ``pycon``) of a page run in order in one
  namespace, in one subprocess per page (``tests/docs_runner.py``); ``fresh``
  starts a new namespace. A block starting with ``>>>`` is run as a doctest:
  its outputs are checked.
- ``http://127.0.0.1:5000`` in a block is the page's served app: a page with
  a ``.. docs-test: serve <module:app>`` comment gets that app served on a
  free port for its blocks, and the address replaced by the real one.
- JavaScript (``javascript``, ``js``) and ``html`` blocks run in Chromium
  (tests/browser/test_docs_examples.py) in a page of ``tests.apps.docs``,
  after the browser SDK; ``node`` runs a block with Node.js instead.
- ``json`` blocks must parse.
- A block of another language with a Python ``after`` check counts as run:
  the check reads the block's text in ``block_text`` (HTTP requests sent,
  answers compared).
- Any other block (shell sessions, configuration, output, server starts)
  needs a ``not run`` comment with its reason; so does a Python or
  JavaScript block that cannot run. The docs test fails on a block that is
  neither run nor marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.rst", *sorted((ROOT / "docs").glob("*.rst"))]
PYTHON = {"python", "py", "pycon", "python3"}
JAVASCRIPT = {"javascript", "js", "html"}
#: The address blocks use for the app they talk to; replaced by the served app's.
PLACEHOLDER_URL = "http://127.0.0.1:5000"

_CODE_BLOCK = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")
_COMMENT = re.compile(r"^(\s*)\.\. docs-test: (.*)$")
_LITERAL = re.compile(r"^(\s*)(?!\.\. ).*::\s*$")


@dataclass
class Block:
    """One code block of a page, with what its comments say about running it."""

    page: Path
    line: int
    language: str
    code: str
    not_run: str | None = None
    setup: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    fresh: bool = False
    node: bool = False

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Page:
    """A page's blocks, and the app its comments ask to be served."""

    path: Path
    blocks: list[Block]
    serve: str | None = None


def _indented_body(lines: list[str], start: int, indent: int) -> tuple[str, int]:
    """The lines from ``start`` indented deeper than ``indent``, dedented; and the index after them."""
    body: list[str] = []
    index = start
    while index < len(lines):
        line = lines[index]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
        index += 1
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    depth = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
    return "\n".join(line[depth:] for line in body) + "\n", index


def read_page(path: Path) -> Page:
    """Parse ``path``: its code blocks and ``docs-test`` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = Page(path, [])
    pending: dict[str, object] = {"setup": []}
    index = 0
    while index < len(lines):
        line = lines[index]
        comment = _COMMENT.match(line)
        code_block = _CODE_BLOCK.match(line)
        if comment:
            indent, text = len(comment.group(1)), comment.group(2).strip()
            body, index = _indented_body(lines, index + 1, indent)
            kind, _, argument = text.partition(" ")
            if kind == "not" and argument.startswith("run:"):
                pending["not_run"] = argument.removeprefix("run:").strip()
            elif kind == "setup":
                pending["setup"].append(body)  # type: ignore[attr-defined]
            elif kind == "after":
                page.blocks[-1].after.append(body)
            elif kind in ("fresh", "node"):
                pending[kind] = True
            elif kind == "serve":
                page.serve = argument
            else:
                raise ValueError(f"{path}:{index}: unknown docs-test comment {text!r}")
            continue
        if code_block or (_LITERAL.match(line) and not line.lstrip().startswith("..")):
            match = code_block or _LITERAL.match(line)
            assert match is not None
            indent = len(match.group(1))
            language = code_block.group(2) if code_block else "literal"
            start = index + 1
            while start < len(lines) and lines[start].strip().startswith(":") and code_block:
                start += 1  # the directive's options
            body, after = _indented_body(lines, start, indent)
            if body.strip():
                page.blocks.append(Block(path, index + 1, language, body, **pending))  # type: ignore[arg-type]
                pending = {"setup": []}
            index = after
            continue
        index += 1
    return page


def pages() -> list[Page]:
    """Every page of the documentation, README.rst first."""
    return [read_page(path) for path in PAGES]
