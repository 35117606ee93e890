"""Scopes: boolean expressions over one model's columns that Python and SQL evaluate alike.

Stand-in (replaced by the scope-expr branch's module): equality, ``in_``,
``and_``/``or_`` and ``is None`` on columns against literal values.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import elements, operators

from .serialize import json_safe


class ScopeError(TypeError):
    """A scope expression uses a construct the scope mechanism cannot evaluate."""


def column_values(row: Any) -> dict[str, Any]:
    """Every column attribute of ``row`` (hidden ones included), JSON-safe."""
    mapper = sa.inspect(type(row))
    return {prop.key: json_safe(getattr(row, prop.key), prop.key) for prop in mapper.column_attrs}


class Scope:
    """A scope of ``model``: which rows it selects, in Python (:meth:`selects`) and SQL (:meth:`clause`)."""

    def __init__(self, model: type, expression: Any, tree: tuple[Any, ...]) -> None:
        self.model = model
        self._expression = expression
        self._tree = tree
        self.key: str = repr(tree)
        self.digest: str = hashlib.sha256(self.key.encode()).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and other.model is self.model and other.key == self.key

    def __hash__(self) -> int:
        return hash((self.model, self.key))

    def __repr__(self) -> str:
        return f"<Scope {self.model.__name__} {self.key}>"

    def selects(self, values: Mapping[str, Any]) -> bool:
        """Whether the row whose :func:`column_values` are ``values`` is in this scope."""
        return bool(_evaluate(self._tree, values))

    def clause(self) -> sa.ColumnElement[bool]:
        """The scope as a SQL condition for ``.where()``."""
        return self._expression  # type: ignore[no-any-return]


def scope_of(model: type, expression: Any) -> Scope:
    """The :class:`Scope` of ``expression`` over ``model``'s columns.

    :raises ScopeError: the expression uses something unsupported (named).
    """
    mapper: Any = sa.inspect(model)
    keys: dict[Any, str] = {prop.columns[0]: prop.key for prop in mapper.column_attrs}
    return Scope(model, expression, _tree(expression, keys))


def _tree(expression: Any, keys: dict[Any, str]) -> tuple[Any, ...]:
    if isinstance(expression, elements.BooleanClauseList):
        kind = "and" if expression.operator is operators.and_ else "or"
        return (kind, *(_tree(part, keys) for part in expression.clauses))
    if isinstance(expression, elements.Grouping):
        return _tree(expression.element, keys)
    if isinstance(expression, elements.BinaryExpression):
        left, right = expression.left, expression.right
        op: Any = expression.operator
        if left not in keys:
            raise ScopeError(f"unsupported scope operand {left!r}: a column of the model")
        column = keys[left]
        if op in (operators.is_, operators.eq) and isinstance(right, elements.Null):
            return ("none", column)
        if op is operators.eq and isinstance(right, elements.BindParameter):
            return ("eq", column, json_safe(right.effective_value, column))
        if op is operators.eq and isinstance(right, (elements.True_, elements.False_)):
            return ("eq", column, isinstance(right, elements.True_))
        if op is operators.in_op and isinstance(right, elements.BindParameter):
            return ("in", column, tuple(json_safe(v, column) for v in right.effective_value or ()))
        raise ScopeError(f"unsupported scope operator {op!r}")
    raise ScopeError(f"unsupported scope construct {type(expression).__name__}")


def _evaluate(tree: tuple[Any, ...], values: Mapping[str, Any]) -> bool:
    kind = tree[0]
    if kind == "and":
        return all(_evaluate(part, values) for part in tree[1:])
    if kind == "or":
        return any(_evaluate(part, values) for part in tree[1:])
    if kind == "none":
        return values.get(tree[1]) is None
    value = values.get(tree[1])
    if value is None:
        return False
    if kind == "eq":
        return bool(operator.eq(value, tree[2]))
    return value in tree[2]
