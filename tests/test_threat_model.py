"""The threat model page names only tests that exist (docs/threat-model.rst)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "threat-model.rst"
TEST_REFERENCE = re.compile(r"``((?:browser/)?test_\w+\.py)::(test_\w+)``")


def defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_test_the_threat_model_names_exists() -> None:
    named = TEST_REFERENCE.findall(PAGE.read_text())
    assert len(named) > 30
    missing = [
        f"{file}::{test}"
        for file, test in named
        if not (ROOT / "tests" / file).is_file()
        or test not in defined_functions(ROOT / "tests" / file)
    ]
    assert missing == []


def test_the_threat_model_is_in_the_table_of_contents() -> None:
    assert "   threat-model\n" in (ROOT / "docs" / "index.rst").read_text()
