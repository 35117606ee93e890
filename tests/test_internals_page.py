"""docs/internals.rst names every module of the package, and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "internals.rst"
NAMED = re.compile(r"``(flask_sockpub/[\w/]+\.py)``")


def package_modules() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "flask_sockpub").rglob("*.py")
        if "static" not in path.parts
    }


def test_every_module_named_on_the_internals_page_exists() -> None:
    named = set(NAMED.findall(PAGE.read_text()))
    assert named, "the page names no module"
    assert sorted(named - package_modules()) == []


def test_every_module_of_the_package_is_named_on_the_internals_page() -> None:
    assert sorted(package_modules() - set(NAMED.findall(PAGE.read_text()))) == []


def test_the_hops_name_modules_and_functions_that_exist() -> None:
    """Each ``module.py`` ``name`` pair in the two paths names a definition of that module."""
    text = PAGE.read_text().partition("One socket request")[2]
    hops = re.findall(r"``([\w/]+\.py)``\s+``([\w.]+)``", text)
    assert len(hops) > 10
    missing = []
    for module, name in hops:
        source = (ROOT / "flask_sockpub" / module).read_text()
        definition = name.split(".")[-1]
        if not re.search(rf"^\s*(def|class) {re.escape(definition)}\b", source, re.M):
            missing.append(f"{module} {name}")
    assert missing == []
