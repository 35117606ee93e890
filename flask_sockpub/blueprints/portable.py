"""SQL that gives the same answer on SQLite, PostgreSQL and MariaDB, where each differs.

* :class:`ExactText`: text compared and sorted by code point, case-sensitively.
* :class:`ExactMatch`: text equal to one of some values, exactly, by an index where there is one.
* :class:`SortKey`: ``NULL`` first going up, last going down.

Case-insensitive text matching lives in :mod:`flask_sockpub.blueprints.textmatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.sql.visitors import InternalTraversal


class ExactText(FunctionElement[str]):
    """A text column compared and sorted by code point on every database.

    MySQL and MariaDB compare text under the column's collation, usually
    case- and accent-insensitive and padding trailing spaces (``'Zoë' = 'ZOE '``):
    there it becomes ``BINARY x``, which compares UTF-8 bytes, trailing spaces
    included (code point order, as SQLite and PostgreSQL's ``C`` collation do).
    SQLite gets ``x COLLATE BINARY``, which overrides a column declared
    ``COLLATE NOCASE``. PostgreSQL compares with ``=`` byte for byte under
    every deterministic collation (a database's default always is), so the
    column stays itself there, unless its type declares a collation (which
    may be a nondeterministic, case-insensitive ICU one): then ``x COLLATE
    "C"``. Elsewhere it is the column itself.
    """

    type = String()
    name = "sockpub_exact_text"
    inherit_cache = True


@compiles(ExactText)
def _exact_text_elsewhere(element: ExactText, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(ExactText, "sqlite")
def _exact_text_sqlite(element: ExactText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} COLLATE BINARY"


@compiles(ExactText, "postgresql")
def _exact_text_postgresql(element: ExactText, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    # Only where a collation is declared: COLLATE "C" on a column of the
    # database's collation would keep its index out of the comparison.
    return f'({text}) COLLATE "C"' if _declared_collation(element, compiler.dialect) else str(text)


def _declared_collation(element: ExactText, dialect: Dialect) -> str | None:
    # dialect_impl: the type this database gets, a with_variant() one included.
    type_ = next(iter(element.clauses)).type.dialect_impl(dialect)
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return getattr(type_, "collation", None)


@compiles(ExactText, "mysql")
@compiles(ExactText, "mariadb")
def _exact_text_mysql(element: ExactText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"BINARY {compiler.process(element.clauses, **kw)}"


class ExactMatch(ColumnElement[bool]):
    """``column`` equal to one of ``values``, text compared as :class:`ExactText` compares it.

    On MariaDB ``BINARY x IN (...)`` alone cannot use an index on the column,
    so the collation's own comparison, which takes every row the exact one
    takes (and ``'bob'``, ``'Bob '``...), comes first and narrows by the index:
    ``(x IN (...) AND BINARY x IN (...))``. Elsewhere it is
    ``ExactText(x) IN (...)``. One value is compared with ``=``.
    """

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("plain", InternalTraversal.dp_clauseelement),
        ("exact", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Sequence[Any]) -> None:
        exact = ExactText(column)
        if len(values) == 1:
            self.plain, self.exact = column == values[0], exact == values[0]
        else:
            self.plain, self.exact = column.in_(values), exact.in_(values)

    def self_group(self, against: OperatorType | None = None) -> ColumnElement[Any]:
        # Already a condition: without this, SQLAlchemy would compare a
        # Boolean-typed element with 1 where there is no boolean type (MariaDB),
        # and ``(...) = 1`` keeps the index out again.
        return self


@compiles(ExactMatch)
def _exact_match_elsewhere(element: ExactMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.exact, **kw))


@compiles(ExactMatch, "mysql")
@compiles(ExactMatch, "mariadb")
def _exact_match_mysql(element: ExactMatch, compiler: SQLCompiler, **kw: Any) -> str:
    plain, exact = compiler.process(element.plain, **kw), compiler.process(element.exact, **kw)
    return f"({plain} AND {exact})"


class SortKey(ColumnElement[Any]):
    """An ``ORDER BY`` term: ``NULL`` first ascending, last descending, on every database.

    That is SQLite's and MariaDB's own order; PostgreSQL's is the reverse, so
    it is spelled out (``NULLS FIRST``/``NULLS LAST``), which MariaDB does
    not accept.
    """

    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("descending", InternalTraversal.dp_boolean),
    ]

    def __init__(self, column: ColumnElement[Any], descending: bool) -> None:
        self.column = column
        self.descending = descending


@compiles(SortKey)
def _sort_key_with_nulls(element: SortKey, compiler: SQLCompiler, **kw: Any) -> str:
    order = "DESC NULLS LAST" if element.descending else "ASC NULLS FIRST"
    return f"{compiler.process(element.column, **kw)} {order}"


@compiles(SortKey, "mysql")
@compiles(SortKey, "mariadb")
def _sort_key_mysql(element: SortKey, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} {'DESC' if element.descending else 'ASC'}"
