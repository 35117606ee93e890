"""The public API: every name in __all__ is documented and typed."""

from __future__ import annotations

import inspect
import typing

import pytest

import flask_sockpub
import flask_sockpub.client
import flask_sockpub.testing


def public_names() -> list[tuple[str, object]]:
    return [(name, getattr(flask_sockpub, name)) for name in flask_sockpub.__all__]


@pytest.mark.parametrize(("name", "obj"), public_names(), ids=[name for name, _ in public_names()])
def test_public_name_has_a_docstring(name: str, obj: object) -> None:
    doc = (
        obj.__doc__
        if not isinstance(obj, flask_sockpub.sockets.Socket)
        else flask_sockpub.sockets.Socket.__doc__
    )
    if name == "current_socket":
        # A LocalProxy: its documentation is the attribute docstring in sockets.py,
        # rendered by the API reference; the proxied object has Socket's.
        source = inspect.getsource(flask_sockpub.sockets)
        assert "#: The socket of the current socket request" in source
        return
    assert doc and doc.strip(), f"{name} has no docstring"


def callables_to_check() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name, obj in public_names():
        if inspect.isfunction(obj):
            found.append((name, obj))
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and (not attr.startswith("_") or attr == "__init__"):
                    found.append((f"{name}.{attr}", member))
    return found


@pytest.mark.parametrize(
    ("name", "func"), callables_to_check(), ids=[name for name, _ in callables_to_check()]
)
def test_public_callable_has_type_hints_and_a_docstring(name: str, func: typing.Any) -> None:
    signature = inspect.signature(func)
    hints = func.__annotations__
    for parameter in signature.parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        assert parameter.name in hints, f"{name}: parameter {parameter.name} has no type hint"
    assert "return" in hints, f"{name} has no return type hint"
    if not func.__name__.startswith("_"):
        assert func.__doc__ and func.__doc__.strip(), f"{name} has no docstring"


def test_all_lists_only_names_that_exist() -> None:
    for name in flask_sockpub.__all__:
        assert hasattr(flask_sockpub, name), name
    assert sorted(flask_sockpub.__all__) == sorted(set(flask_sockpub.__all__))
