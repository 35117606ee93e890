"""The package's layout keeps the promises a newcomer relies on.

No import cycle between its modules (imports under ``TYPE_CHECKING`` and inside
functions included), one door to the app's state, and no wording that only
makes sense inside the project's own process.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flask_sockpub"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The package modules ``name`` imports anywhere in its file (parent packages' faces left out)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # "from .rooms import names" imports the module rooms.names; the
            # package itself counts only when a name is taken from it.
            submodules = [f"{module}.{alias.name}" for alias in node.names]
            names_taken = any(submodule not in MODULES for submodule in submodules)
            targets = submodules + ([module] if names_taken else [])
        else:
            continue
        found.update(target for target in targets if target in MODULES)
    found.discard(name)
    return found


def test_every_module_is_walked() -> None:
    assert {
        "flask_sockpub.extension",
        "flask_sockpub.state",
        "flask_sockpub.internals",
    } <= MODULES.keys()
    assert "flask_sockpub.blueprints.routes" in imported_modules(
        "flask_sockpub.extension", MODULES["flask_sockpub.extension"]
    )


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports; the package's face (``flask_sockpub``) is left out."""
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    del graph["flask_sockpub"]
    return {name: targets - {"flask_sockpub"} for name, targets in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle, as the modules on it (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_the_package_imports_another_in_a_cycle() -> None:
    assert cycles(import_graph()) == []


def test_modules_inside_the_package_do_not_import_its_face() -> None:
    importing = [name for name, targets in import_graph().items() if "flask_sockpub" in targets]
    importing += [
        name
        for name, path in MODULES.items()
        if name != "flask_sockpub" and "flask_sockpub" in imported_modules(name, path)
    ]
    assert importing == []


def test_subpackage_faces_import_nothing() -> None:
    faces = [
        name
        for name, path in MODULES.items()
        if path.name == "__init__.py" and name != "flask_sockpub"
    ]
    assert faces
    assert {face: sorted(imported_modules(face, MODULES[face])) for face in faces} == {
        face: [] for face in faces
    }


def test_state_imports_nothing_of_the_package() -> None:
    assert imported_modules("flask_sockpub.state", MODULES["flask_sockpub.state"]) == set()


EXTENSION_READ = re.compile(r"""extensions\s*(\[|\.get\(|\.setdefault\()\s*["']sockpub["']""")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_state_module_reads_app_extensions(name: str) -> None:
    text = MODULES[name].read_text()
    if name == "flask_sockpub.state":
        assert "app.extensions" in text
    else:
        assert not EXTENSION_READ.search(text)
        assert "EXTENSION_KEY" not in text


def test_the_extension_read_pattern_matches_what_it_forbids() -> None:
    assert EXTENSION_READ.search('state = app.extensions["sockpub"]')
    assert EXTENSION_READ.search("app.extensions.get('sockpub')")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_code_names_no_spec_section(name: str) -> None:
    assert "SPEC" not in MODULES[name].read_text()
