"""Run the Python blocks of one documentation page: ``python -m tests.docs_runner PAGE [URL]``.

The blocks run in order in one namespace (``.. docs-test: fresh`` starts a
new one), each after its hidden ``setup`` code and before its ``after`` code;
``>>>`` blocks are doctests. ``after`` code finds what the block
printed in ``printed``. ``URL`` replaces ``http://127.0.0.1:5000`` (see
tests/docs_blocks.py). Exits 1 naming the block that failed.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import sys
import traceback
from pathlib import Path
from typing import Any

from tests.docs_blocks import JAVASCRIPT, PLACEHOLDER_URL, PYTHON, Block, read_page


def new_namespace() -> dict[str, Any]:
    return {"__name__": "docs_example"}


def run(code: str, namespace: dict[str, Any], block: Block, part: str) -> None:
    exec(compile(code, f"<{block.where} {part}>", "exec"), namespace)


def run_doctest(code: str, namespace: dict[str, Any], block: Block) -> None:
    test = doctest.DocTestParser().get_doctest(
        code, namespace, block.where, str(block.page), block.line
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, clear_globs=False)
    if runner.failures:
        raise AssertionError(f"{runner.failures} doctest example(s) failed (output above)")


def main(page_path: str, url: str = PLACEHOLDER_URL) -> int:
    page = read_page(Path(page_path).resolve())
    namespace = new_namespace()
    for block in page.blocks:
        if block.not_run is not None:
            continue
        if block.language in JAVASCRIPT:
            continue  # its checks are JavaScript, run with it in the browser or Node
        if block.language not in PYTHON:
            # A block of another language may have Python checks, which read it in ``block_text``.
            namespace["block_text"] = block.code
            for after in block.after:
                try:
                    run(after.replace(PLACEHOLDER_URL, url), namespace, block, "after")
                except BaseException:
                    print(
                        f"FAILED: the check of the block at {block.where}:\n{block.code}",
                        file=sys.stderr,
                    )
                    traceback.print_exc()
                    return 1
            continue
        if block.fresh:
            namespace = new_namespace()
        try:
            for setup in block.setup:
                run(setup.replace(PLACEHOLDER_URL, url), namespace, block, "setup")
            code = block.code.replace(PLACEHOLDER_URL, url)
            if code.lstrip().startswith(">>>"):
                run_doctest(code, namespace, block)
            else:
                with contextlib.redirect_stdout(io.StringIO()) as printed:
                    run(code, namespace, block, "block")
                # What the block printed, for its ``after`` checks.
                namespace["printed"] = printed.getvalue()
                sys.stdout.write(namespace["printed"])
            for after in block.after:
                run(after.replace(PLACEHOLDER_URL, url), namespace, block, "after")
        except BaseException:
            print(f"FAILED: the block at {block.where}:\n{block.code}", file=sys.stderr)
            traceback.print_exc()
            return 1
        print(f"ran {block.where}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
