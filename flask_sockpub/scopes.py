"""Scopes: the rows of a model a socket may see, decided identically in Python and in SQL.

A scope is declared as a SQLAlchemy boolean expression over the model's own
columns, typically returned per request by a callable that reads
``current_user``::

    lambda: Post.owner_id == current_user.id
    lambda: sa.or_(Post.public == True, Post.owner_id == current_user.id)
    lambda: Post.tenant.in_(current_user.tenants)

:func:`scope_of` reads such an expression into a :class:`Scope`, which can say
whether a row is inside it in Python (:meth:`Scope.selects`, over
:func:`column_values`, even after a trip through JSON), and give the same rows
in SQL (:meth:`Scope.clause`). The two agree on SQLite, PostgreSQL and MariaDB.

What a scope may contain
------------------------

* ``column == value`` and ``column != value``; ``value == column`` too;
* ``column.in_([...])`` and ``column.not_in([...])``;
* ``column.is_(None)``, ``column == None``, ``column.is_not(None)``, ``column != None``;
* a bare boolean column (``Post.public``, meaning ``Post.public == True``);
* ``sa.and_(...)``, ``sa.or_(...)``, ``sa.not_(...)`` and ``~``, nested freely;
* ``sa.true()``, ``sa.false()``, and Python's ``True`` and ``False``: every
  row and none.

The columns must be column attributes of the scope's model, and compared with
values (a Python value, or ``sa.literal()``), not with other columns. Anything
else (``like``, ``contains``, ``<``, functions, casts, subqueries, columns of
another table or alias, ``text()``) raises :class:`ScopeError` naming the
part. So do values that do not fit the column (``Post.owner_id == "abc"``);
values that do are converted as a client's filter values are
(:func:`flask_sockpub.blueprints.coerce.coerce`): ``Post.owner_id == "7"``
means ``7``. An ``Enum`` column takes a member of its enum class or the
member's name, and is compared by the name the database stores; a ``Date``
column a ``date`` or ISO text (not a ``datetime``); a ``Uuid`` column a
``UUID`` or its text in any case.

Column types a scope may compare: booleans, integers, text (``String``,
``Text``, ``Unicode``...), ``Enum``, ``Date`` and ``Uuid``. Refused, because
Python and the databases may disagree about their equality: floats and
``Numeric`` (precision: MariaDB's ``FLOAT`` is single precision, a
``Numeric(10, 2)`` holds ``1.50`` where Python may hold ``1.5`` or
``1.505``), ``DateTime`` and ``Time`` (fractional seconds each database
rounds its own way, time zones), fixed-width ``CHAR`` (PostgreSQL pads and
ignores trailing spaces), ``Enum`` types with a ``values_callable``, and any
``TypeDecorator`` (it may change values on their way to the database).

Semantics
---------

SQL's, as a ``WHERE`` clause applies them: a comparison with ``NULL`` is
unknown, and unknown rows are left out. So a row whose column is ``NULL`` is
in neither ``column == 7`` nor ``column != 7``; ``column.in_([1, None])``
does not take it either (``NULL IN (1, NULL)`` is unknown), and
``column.not_in([1, None])`` takes no row at all. An empty ``in_([])`` takes
no row, an empty ``not_in([])`` every row. ``not_`` follows SQL's
three-valued logic (``not_(column == 7)`` is ``column != 7``, ``NULL``
rows still left out).

Text is compared exactly, code point by code point, case and accents and
trailing spaces included, on every database: ``'Bob'``, ``'bob'``,
``'Bob '`` and ``'BOB'`` are four values, ``'ß'`` is not ``'ss'``. SQLite
and PostgreSQL do that by themselves, unless a column declares another
collation; MariaDB's usual collations are case- and accent-insensitive and
ignore trailing spaces (``'Bob' = 'bob '`` is true there). So the SQL side
compares text through :class:`~flask_sockpub.blueprints.portable.ExactText`,
the same rule the list criteria use: ``BINARY column`` on MariaDB (bytes,
trailing spaces included), ``column COLLATE BINARY`` on SQLite, and
``column COLLATE "C"`` on PostgreSQL where the column's type declares a
collation. On MariaDB, where ``BINARY column`` keeps an index on the
column out, ``==`` and ``in_`` on text also compare the plain column first
(:class:`~flask_sockpub.blueprints.portable.ExactMatch`), so that the index
narrows the rows; ``!=`` and ``not_in`` scan.

Keys
----

:attr:`Scope.key` is the scope as canonical text (``owner_id = 7 AND public
= true``): the same rows asked for the same way give the same key in every
process, whatever order ``and_``/``or_`` parts and ``in_`` values came in.
:attr:`Scope.digest` is a short hex digest of it, for room names.
"""

from __future__ import annotations

import enum
import hashlib
import json
import operator
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Union

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.sql import elements, operators
from sqlalchemy.types import TypeEngine

from .blueprints.coerce import BOOLEAN, DATE, ENUM, INTEGER, TEXT, UUID, coerce, column_kind
from .blueprints.portable import ExactMatch, ExactText
from .serialize import json_safe, unproxied
from .storable import text_problem

#: The constructs a scope may use, as error messages list them.
SUPPORTED = "==, !=, in_, not_in, is_(None), is_not(None), and_, or_, not_"

#: Column kinds (:mod:`flask_sockpub.blueprints.coerce`) a scope may compare.
SCOPE_KINDS = frozenset({BOOLEAN, INTEGER, TEXT, ENUM, DATE, UUID})

#: Hex digits of :attr:`Scope.digest` (128 bits, so that two scopes' rooms never meet by chance).
DIGEST_LENGTH = 32

_WHY_REFUSED = {
    "float": "floats compare by precision, which differs between Python and each database",
    "decimal": "Numeric values are rounded to the column's scale by the database, not by Python",
    "datetime": "each database rounds fractional seconds and time zones its own way",
    "time": "each database rounds fractional seconds its own way",
}


class ScopeError(TypeError):
    """A scope expression uses something Python and SQL cannot evaluate alike.

    The message names the part, e.g. ``Post.title LIKE 'a%': the operator
    'like' is not supported in a scope (supported: ==, !=, in_, ...)``.
    """


# A leaf: one column tested against literal values. ``literals`` are the
# values as :func:`column_values` gives them (JSON-safe), sorted; ``binds``
# the same values as the column's type binds them in SQL, in the same order.
@dataclass(frozen=True)
class _Test:
    op: str  # "=", "!=", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
    column: str
    kind: str
    literals: tuple[Any, ...] = ()
    binds: tuple[Any, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class _Junction:
    op: str  # "AND" or "OR"
    parts: tuple[_Node, ...]


_Node = Union[_Test, _Junction, bool]


@dataclass(frozen=True)
class Scope:
    """The rows of ``model`` a scope takes, readable by Python and SQL alike.

    Made by :func:`scope_of`. Two scopes are equal, and hash alike, when
    their model and :attr:`key` are.
    """

    #: The mapped class whose rows the scope takes.
    model: type
    #: Canonical text of the scope (``name = "Bob" AND owner_id IN (1, 2)``),
    #: identical in every process for the same scope.
    key: str
    _node: _Node = field(compare=False, repr=False)

    @property
    def digest(self) -> str:
        """A hex digest of :attr:`key` (no ``:``, fixed length), for room names."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:DIGEST_LENGTH]

    @property
    def columns(self) -> frozenset[str]:
        """The attribute names of the columns the scope reads."""
        return frozenset(_columns(self._node))

    def selects(self, values: Mapping[str, Any]) -> bool:
        """Whether a row with these column values is inside the scope.

        :param values: :func:`column_values` of the row, or that dict after a
            trip through JSON.
        :raises KeyError: ``values`` lacks a column the scope reads.
        """
        return _selects(self._node, values)

    def clause(self) -> sa.ColumnElement[bool]:
        """The scope as a ``WHERE`` clause on the model's table, for any database.

        ``select(Post).where(scope.clause())`` gives the rows :meth:`selects`
        takes. It is a filter, not a value: its negation is not the rows
        outside the scope (``NULL`` rows are in neither).
        """
        return _clause(self.model, self._node)


def scope_of(model: type, expression: Any) -> Scope:
    """The :class:`Scope` an expression over ``model``'s columns declares.

    :param expression: a SQLAlchemy boolean expression (see the module's
        documentation for what it may use), or ``True``/``False``.
    :raises ScopeError: naming what the expression uses that a scope cannot.

    ::

        scope = scope_of(Post, sa.or_(Post.public == True, Post.owner_id == 7))
        scope.key                                    # 'owner_id = 7 OR public = true'
        scope.selects(column_values(post))           # the row, in Python
        db.session.scalars(select(Post).where(scope.clause()))   # the rows, in SQL
    """
    if not isinstance(model, type) or sa.inspect(model, raiseerr=False) is None:
        raise TypeError(f"scope_of() needs a mapped class, not {model!r}")
    node = _Reader(model).node(expression, negated=False)
    return Scope(model, _text(node), node)


def column_values(row: Any) -> dict[str, Any]:
    """Every column attribute of a model instance (hidden ones too), as :meth:`Scope.selects` reads them.

    JSON-safe (:func:`flask_sockpub.serialize.json_safe`), with the values of
    columns a scope compares in the form the database holds: a Python enum
    member as its name, a UUID as its canonical text. Columns JSON cannot
    carry (bytes) are left out: no scope can read them. Reading a deleted
    row's attributes after its commit fails, so take a destroyed row's
    values before the commit.

    :param row: a model instance, or a ``LocalProxy`` to one.
    """
    row = unproxied(row)
    model = type(row)
    values: dict[str, Any] = {}
    for prop in sa.inspect(model).column_attrs:
        value = getattr(row, prop.key)
        try:
            values[prop.key] = json_safe(
                _stored(value, prop.columns[0].type), f"{model.__name__}.{prop.key}"
            )
        except TypeError:
            continue
    return values


def _stored(value: Any, type_: TypeEngine[Any]) -> Any:
    """``value`` as the database holds it, where Python holds it otherwise."""
    if value is None or isinstance(type_, sa.TypeDecorator):
        return value
    if isinstance(type_, sa.Enum) and isinstance(value, enum.Enum):
        return value.name
    if isinstance(type_, sa.Uuid) and isinstance(value, (str, uuid.UUID)):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            return value
    if isinstance(type_, sa.Boolean) and type(value) is int and value in (0, 1):
        return bool(value)
    return value


class _Reader:
    """Reads an expression into nodes, with ``not_`` pushed down to the leaves."""

    def __init__(self, model: type) -> None:
        self.model = model
        self.mapper: orm.Mapper[Any] = sa.inspect(model)

    def node(self, expression: Any, negated: bool) -> _Node:
        if isinstance(expression, bool):
            return expression != negated
        if hasattr(expression, "__clause_element__"):  # ``Post.public``, an ORM attribute
            expression = expression.__clause_element__()
        if isinstance(expression, sa.Column):
            if not isinstance(expression.type, sa.Boolean):
                raise ScopeError(
                    f"{_shown(expression)}: a column alone is a condition only when it is "
                    "Boolean; compare it with a value (column == value)"
                )
            return self._test("=", expression, [True], negated, expression)
        if isinstance(expression, elements.True_):
            return not negated
        if isinstance(expression, elements.False_):
            return negated
        if isinstance(expression, elements.Grouping):
            return self.node(expression.element, negated)
        if isinstance(expression, elements.BooleanClauseList):
            return self._junction(expression, negated)
        if isinstance(expression, elements.UnaryExpression) and expression.operator is operator.inv:
            return self.node(expression.element, not negated)
        if isinstance(expression, elements.AsBoolean):
            # A bare boolean column (``Post.public``) or its negation (``~Post.public``).
            value = expression.operator is operators.is_true
            return self._test("=", expression.element, [value], negated, expression)
        if isinstance(expression, elements.BinaryExpression):
            return self._comparison(expression, negated)
        raise ScopeError(
            f"{_shown(expression)}: {_construct(expression)} is not supported in a scope (supported: {SUPPORTED})"
        )

    def _junction(self, expression: elements.BooleanClauseList, negated: bool) -> _Node:
        if expression.operator not in (operator.and_, operator.or_):
            raise ScopeError(f"{_shown(expression)}: not an and_/or_ of conditions")
        conjunction = (expression.operator is operator.and_) != negated
        parts = [self.node(part, negated) for part in expression.clauses]
        return _junction("AND" if conjunction else "OR", parts)

    def _comparison(self, expression: elements.BinaryExpression[Any], negated: bool) -> _Node:
        op = expression.operator
        left, right = expression.left, expression.right
        if (
            op in (operator.eq, operator.ne)
            and self._is_column(right)
            and not self._is_column(left)
        ):
            left, right = right, left  # ``7 == Post.owner_id`` reads ``Post.owner_id == 7``
        name = _OPERATORS.get(op)  # type: ignore[call-overload]
        if name is None:
            raise ScopeError(
                f"{_shown(expression)}: the operator {_operator_name(op)!r} is not supported "
                f"in a scope (supported: {SUPPORTED})"
            )
        if name in ("IS NULL", "IS NOT NULL"):
            if not isinstance(right, elements.Null):
                raise ScopeError(
                    f"{_shown(expression)}: is_() and is_not() compare with None only in a scope"
                )
            return self._test(name, left, [], negated, expression)
        if self._is_column(right) or isinstance(right, sa.ColumnClause):
            raise ScopeError(
                f"{_shown(expression)}: a scope compares columns with values, not with "
                f"other columns"
            )
        return self._test(name, left, self._values(right, name, expression), negated, expression)

    def _values(self, right: Any, op: str, expression: Any) -> list[Any]:
        if isinstance(right, elements.Grouping):
            right = right.element
        if isinstance(right, elements.True_):
            return [True]
        if isinstance(right, elements.False_):
            return [False]
        if isinstance(right, elements.Null):
            return [None]
        if not isinstance(right, elements.BindParameter):
            raise ScopeError(
                f"{_shown(expression)}: {_construct(right)} is not a value; a scope compares "
                f"columns with Python values (supported: {SUPPORTED})"
            )
        if right.required:
            raise ScopeError(f"{_shown(expression)}: bindparam() without a value")
        value = right.effective_value
        if op in ("IN", "NOT IN"):
            if not isinstance(value, (list, tuple)):
                raise ScopeError(f"{_shown(expression)}: in_() needs a list of values")
            return list(value)
        return [value]

    def _is_column(self, expression: Any) -> bool:
        return isinstance(expression, sa.Column)

    def _test(
        self, op: str, column: Any, values: list[Any], negated: bool, expression: Any
    ) -> _Node:
        key, type_ = self._column(column, expression)
        kind = _kind(self.model, key, type_)
        if negated:
            op = _NEGATED[op]
        has_null = any(value is None for value in values)
        converted: dict[str, Any] = {}
        for value in values:
            if value is not None:
                literal, bind = self._literal(key, type_, kind, value, expression)
                converted[_json(literal)] = (literal, bind)
        ordered = [converted[text] for text in sorted(converted)]
        literals = tuple(literal for literal, _ in ordered)
        binds = tuple(bind for _, bind in ordered)
        # From here on no NOT remains above, so "unknown" leaves a row out as "false" does.
        if op in ("IS NULL", "IS NOT NULL"):
            return _Test(op, key, kind)
        if op in ("=", "!=") and has_null:
            return False  # column = NULL is unknown
        if op == "=" or op == "!=":
            if kind == BOOLEAN and op == "!=":
                return _Test("=", key, kind, (not literals[0],), (not binds[0],))
            return _Test(op, key, kind, literals, binds)
        if op == "IN":
            if len(literals) == 1:
                return _Test("=", key, kind, literals, binds)
            return _Test("IN", key, kind, literals, binds) if literals else False
        # NOT IN: a NULL among the values makes every comparison unknown or false.
        if has_null:
            return False
        if len(literals) == 1:
            return self._test("!=", column, values, False, expression)
        return _Test("NOT IN", key, kind, literals, binds) if literals else True

    def _column(self, column: Any, expression: Any) -> tuple[str, TypeEngine[Any]]:
        if isinstance(column, elements.Grouping):
            column = column.element
        if not isinstance(column, sa.Column):
            raise ScopeError(
                f"{_shown(expression)}: {_construct(column)} is not a column of "
                f"{self.model.__name__}; a scope compares the model's own columns "
                f"(supported: {SUPPORTED})"
            )
        try:
            prop = self.mapper.get_property_by_column(column)
        except orm.exc.UnmappedColumnError:
            table = getattr(column.table, "name", "?")
            raise ScopeError(
                f"{_shown(expression)}: {table}.{column.name} is not a column of "
                f"{self.model.__name__} (a scope reads its model's own columns only, not "
                "another table's, an alias's or a join's)"
            ) from None
        if not isinstance(prop, orm.ColumnProperty) or len(prop.columns) != 1:
            raise ScopeError(
                f"{_shown(expression)}: {self.model.__name__}.{prop.key} is not a plain column"
            )
        return prop.key, column.type

    def _literal(
        self, key: str, type_: TypeEngine[Any], kind: str, value: Any, expression: Any
    ) -> tuple[Any, Any]:
        """``value`` as :func:`column_values` gives it, and as SQL binds it."""
        where = f"{self.model.__name__}.{key}"
        if kind == ENUM and isinstance(value, enum.Enum):
            enum_class = getattr(type_, "enum_class", None)
            if enum_class is None or not isinstance(value, enum_class):
                raise ScopeError(f"{_shown(expression)}: {value!r} is not a value of {where}")
            return value.name, value
        try:
            # A date is taken as it is (a datetime is not a date here: its time would be cut).
            bind: Any = value if kind == DATE and type(value) is date else coerce(value, type_)
        except ValueError as exc:
            raise ScopeError(f"{_shown(expression)}: {where}: {exc}") from None
        if kind == TEXT:
            if "\x00" in bind:
                raise ScopeError(
                    f"{_shown(expression)}: {where}: text with NUL (\\u0000) characters cannot "
                    "be compared alike on every database (PostgreSQL cannot hold it)"
                )
            problem = text_problem(bind)
            if problem is not None:
                raise ScopeError(f"{_shown(expression)}: {where}: {problem}")
        return json_safe(_stored(bind, type_), where), bind


def _kind(model: type, key: str, type_: TypeEngine[Any]) -> str:
    where = f"{model.__name__}.{key}"
    if isinstance(type_, sa.TypeDecorator):
        raise ScopeError(
            f"{where} is a {type(type_).__name__}, a TypeDecorator: it may change values on "
            "their way to the database, so a scope cannot compare it in Python"
        )
    kind = column_kind(type_)
    if kind not in SCOPE_KINDS:
        why = _WHY_REFUSED.get(
            kind or "", "a scope compares booleans, integers, text, enums, dates and UUIDs"
        )
        raise ScopeError(
            f"{where} is a {type(type_).__name__} column, which a scope cannot compare: {why}"
        )
    if isinstance(type_, (sa.CHAR, sa.NCHAR)):
        raise ScopeError(
            f"{where} is a fixed-width {type(type_).__name__} column, which a scope cannot "
            "compare: PostgreSQL pads it with spaces and ignores them in comparisons"
        )
    if kind == ENUM and getattr(type_, "values_callable", None) is not None:
        raise ScopeError(f"{where} is an Enum with a values_callable, which a scope cannot compare")
    return kind


_OPERATORS = {
    operator.eq: "=",
    operator.ne: "!=",
    operators.in_op: "IN",
    operators.not_in_op: "NOT IN",
    operators.is_: "IS NULL",
    operators.is_not: "IS NOT NULL",
}

_NEGATED = {
    "=": "!=",
    "!=": "=",
    "IN": "NOT IN",
    "NOT IN": "IN",
    "IS NULL": "IS NOT NULL",
    "IS NOT NULL": "IS NULL",
}

_SYMBOLS = {
    operator.lt: "<",
    operator.le: "<=",
    operator.gt: ">",
    operator.ge: ">=",
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.mod: "%",
}


def _junction(op: str, parts: list[_Node]) -> _Node:
    """``parts`` joined by ``op``, flattened, constants folded, sorted by key, duplicates dropped."""
    absorbing, neutral = (False, True) if op == "AND" else (True, False)
    flat: dict[str, _Node] = {}
    for part in parts:
        if part is absorbing:
            return absorbing
        if part is neutral:
            continue
        for item in part.parts if isinstance(part, _Junction) and part.op == op else (part,):
            flat.setdefault(_text(item), item)
    if not flat:
        return neutral
    if len(flat) == 1:
        return next(iter(flat.values()))
    return _Junction(op, tuple(flat[text] for text in sorted(flat)))


def _text(node: _Node, inside: str | None = None) -> str:
    """The canonical text of ``node`` (parenthesised when it sits inside the other junction)."""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, _Junction):
        text = f" {node.op} ".join(_text(part, node.op) for part in node.parts)
        return f"({text})" if inside else text
    if node.op in ("IS NULL", "IS NOT NULL"):
        return f"{node.column} {node.op}"
    if node.op in ("IN", "NOT IN"):
        return f"{node.column} {node.op} ({', '.join(_json(value) for value in node.literals)})"
    return f"{node.column} {node.op} {_json(node.literals[0])}"


def _json(value: Any) -> str:
    # Hash randomisation cannot reach this: no set or dict order is involved.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _columns(node: _Node) -> set[str]:
    if isinstance(node, bool):
        return set()
    if isinstance(node, _Junction):
        return set().union(*(_columns(part) for part in node.parts))
    return {node.column}


def _selects(node: _Node, values: Mapping[str, Any]) -> bool:
    if isinstance(node, bool):
        return node
    if isinstance(node, _Junction):
        found = (_selects(part, values) for part in node.parts)
        return all(found) if node.op == "AND" else any(found)
    value = values[node.column]
    if node.op == "IS NULL":
        return value is None
    if node.op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False  # a comparison with NULL is unknown: the row is left out
    if node.op == "=":
        return bool(value == node.literals[0])
    if node.op == "!=":
        return bool(value != node.literals[0])
    if node.op == "IN":
        return value in node.literals
    return value not in node.literals


def _clause(model: type, node: _Node) -> sa.ColumnElement[bool]:
    if isinstance(node, bool):
        return sa.true() if node else sa.false()
    if isinstance(node, _Junction):
        parts = [_clause(model, part) for part in node.parts]
        return sa.and_(*parts) if node.op == "AND" else sa.or_(*parts)
    column = getattr(model, node.column)
    if node.op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    if node.op == "IS NOT NULL":
        return column.is_not(None)  # type: ignore[no-any-return]
    if node.kind == TEXT and node.op in ("=", "IN"):
        return ExactMatch(column, node.binds)
    compared = ExactText(column) if node.kind == TEXT else column
    if node.op == "=":
        return compared == node.binds[0]  # type: ignore[no-any-return]
    if node.op == "!=":
        return compared != node.binds[0]  # type: ignore[no-any-return]
    if node.op == "IN":
        return compared.in_(node.binds)  # type: ignore[no-any-return]
    return compared.not_in(node.binds)  # type: ignore[no-any-return]


def _operator_name(op: Any) -> str:
    if op in _SYMBOLS:
        return _SYMBOLS[op]
    return str(getattr(op, "__name__", op)).removesuffix("_op")


def _construct(expression: Any) -> str:
    """What an unsupported piece of an expression is, in words."""
    if isinstance(expression, sa.ClauseElement) and isinstance(
        expression, (sa.Select, sa.ScalarSelect, sa.Subquery, sa.Exists)
    ):
        return "a subquery"
    if isinstance(expression, sa.FunctionElement):
        return f"the function {getattr(expression, 'name', type(expression).__name__)}()"
    if isinstance(expression, sa.TextClause):
        return "text()"
    if isinstance(expression, sa.Cast):
        return "cast()"
    if isinstance(expression, elements.UnaryExpression):
        return f"the operator {_operator_name(expression.operator or expression.modifier)!r}"
    if isinstance(expression, elements.BinaryExpression):
        return f"the operator {_operator_name(expression.operator)!r}"
    return f"a {type(expression).__name__}"


def _shown(expression: Any) -> str:
    """The expression as SQL with its values, shortened, for error messages."""
    try:
        with warnings.catch_warnings():  # SQLAlchemy's about a value-less bindparam()
            warnings.simplefilter("ignore")
            text = str(expression.compile(compile_kwargs={"literal_binds": True}))
    except (sa.exc.SQLAlchemyError, AttributeError, NotImplementedError, TypeError):
        # a value that cannot be shown inline: its placeholder will do
        text = str(expression)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
