"""Sails-style list parameters turned into SQLAlchemy for one model.

A list request (``GET /user?where={"age":{">":30}}&sort=name%20DESC&limit=10``)
is read by :meth:`ListCriteria.parse` into a :class:`ListQuery`, which narrows
a base ``select()``. Everything compiles to SQLAlchemy expressions over the
columns the caller exposes; anything else a client sends is a
:class:`CriteriaError` naming the parameter or field, answered with a 400.

The vocabulary is Waterline 0.x's (Sails 0.9/0.10) with Sails 1.x's additions:
``where`` (equality, ``<``, ``<=``, ``>``, ``>=``, ``!=``, ``in``, ``nin``,
``contains``, ``startsWith``, ``endsWith``, ``like``, ``or``, ``and``, nulls),
bare attribute parameters (``?name=Randy``), ``sort``, ``limit`` and ``skip``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, func, inspect, or_, select, true
from sqlalchemy.types import TypeEngine
from werkzeug.datastructures import MultiDict

from ..internals import has_limit_or_offset
from ..model import primary_key_of
from .coerce import ORDERED_KINDS, TEXT, coerce, column_kind
from .errors import FieldErrors
from .portable import ExactText, SortKey
from .textmatch import check_like_pattern, matches

if TYPE_CHECKING:
    from typing_extensions import TypeAlias, Unpack

    #: A ``select()`` of any columns (SQLAlchemy 2.1 types it with a TypeVarTuple).
    AnySelect: TypeAlias = "Select[Unpack[tuple[Any, ...]]]"

#: Page size when the client sends no ``limit``.
DEFAULT_PAGE_SIZE = 30
#: Largest ``limit`` honoured; larger ones are lowered to it.
DEFAULT_MAX_LIMIT = 1000
#: Deepest nesting of ``or``/``and`` inside ``where``.
MAX_DEPTH = 8
#: Most comparisons one request may make (each operator on a field counts one).
MAX_CONDITIONS = 100
#: Most values one request may send, counting each item of ``in``/``nin`` lists.
MAX_VALUES = 1000
#: Largest ``skip`` (JavaScript's largest safe integer).
MAX_SKIP = 2**53 - 1

#: Parameters that are never columns; the cache-buster ``_`` is ignored.
RESERVED = frozenset({"where", "sort", "limit", "skip", "_"})
#: Names clients borrow from other APIs -> what to use instead (never taken as columns).
HINTS = {"offset": "skip", "order": "sort", "orderBy": "sort", "page": "skip and limit"}

#: Operator names in ``where`` (Sails 1.x and their Waterline 0.x aliases) -> the operator.
OPERATORS = {
    "<": "<",
    "lessThan": "<",
    "<=": "<=",
    "lessThanOrEqual": "<=",
    ">": ">",
    "greaterThan": ">",
    ">=": ">=",
    "greaterThanOrEqual": ">=",
    "!=": "!=",
    "not": "!=",
    "!": "!=",
    "in": "in",
    "nin": "nin",
    "contains": "contains",
    "startsWith": "startsWith",
    "endsWith": "endsWith",
    "like": "like",
}
_NAMED = ("<", "<=", ">", ">=", "!=", "in", "nin", "contains", "startsWith", "endsWith", "like")
_TEXT_OPERATORS = frozenset({"contains", "startsWith", "endsWith", "like"})
_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    # JSON's meaning: a null field is not equal to a value (SQL's <> would leave it out).
    "!=": lambda column, value: column.is_distinct_from(value),
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_DIRECTIONS = {"asc": False, "1": False, "desc": True, "-1": True}
_SORT_TERM = re.compile(r"\s*(\S+)(?:\s+(\S+))?\s*\Z")
_COUNT = re.compile(r"[0-9]{1,16}\Z")

_SelectT = TypeVar("_SelectT", bound="AnySelect")


class CriteriaError(FieldErrors):
    """List parameters a client got wrong; answered as 400 ``{"error": ..., "fields": ...}``.

    :param fields: each offending parameter or field name -> what was wrong with it.
    """

    summary = "invalid list parameters"


# eq=False: comparing SQL expressions with == builds SQL, it does not compare them.
@dataclass(frozen=True, eq=False)
class ListQuery:
    """What one list request asks for, as SQLAlchemy pieces.

    Use :meth:`apply` and :meth:`count` on a base ``select()`` of the model;
    they only ever narrow it.
    """

    #: The client's ``where`` and bare attribute parameters, ANDed; ``None`` for all rows.
    where: ColumnElement[bool] | None
    #: The client's ``sort``, then the primary key (so pages never overlap).
    order_by: tuple[ColumnElement[Any], ...]
    #: Rows per page: the client's ``limit``, the page size, at most the maximum.
    limit: int
    #: Rows to skip: the client's ``skip``.
    offset: int

    def apply(self, query: _SelectT) -> _SelectT:
        """``query`` filtered, ordered and paged.

        The filter is ANDed to the query's own ``WHERE`` (an ``or`` from the
        client cannot reach rows outside it); the query's ``ORDER BY`` is
        replaced. A base query must not have ``LIMIT`` or ``OFFSET`` (they
        would be replaced too): scope rows with ``where()``.
        """
        ordered = self._filtered(query).order_by(None).order_by(*self.order_by)
        return ordered.limit(self.limit).offset(self.offset)

    def count(self, query: AnySelect) -> Select[Any]:
        """``SELECT count(*)`` of the rows :meth:`apply` pages through (for ``X-Total-Count``)."""
        return select(func.count()).select_from(self._filtered(query).order_by(None).subquery())

    def _filtered(self, query: _SelectT) -> _SelectT:
        # A scope made of LIMIT/OFFSET would be silently widened by ours, so it
        # is refused rather than guessed at.
        if has_limit_or_offset(query):
            raise ValueError("the base query must scope rows with where(), not limit() or offset()")
        return query if self.where is None else query.where(self.where)


class ListCriteria:
    """The list parameters one model accepts; build it once, :meth:`parse` each request.

    :param model: a mapped class (a Flask-SQLAlchemy ``db.Model``).
    :param fields: attribute names clients may filter and sort on (hidden
        columns left out); all column attributes when ``None``.
    :param page_size: ``limit`` when the client sends none.
    :param max_limit: the largest ``limit`` honoured; larger ones are lowered to it.
    :param max_depth: deepest nesting of ``or``/``and`` in ``where``.
    :param max_conditions: most comparisons one request may make.
    :param max_values: most values one request may send (``in`` items count one each).
    :raises ValueError: a field that is not a column attribute of ``model``, or
        a page size out of range.

    ::

        criteria = ListCriteria(User, fields={"id", "name", "age"})
        listing = criteria.parse(request.args)      # CriteriaError -> 400
        users = db.session.scalars(listing.apply(select(User).where(User.owner == me)))
        total = db.session.scalar(listing.count(select(User).where(User.owner == me)))
    """

    def __init__(
        self,
        model: type[Any],
        fields: Iterable[str] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_limit: int = DEFAULT_MAX_LIMIT,
        max_depth: int = MAX_DEPTH,
        max_conditions: int = MAX_CONDITIONS,
        max_values: int = MAX_VALUES,
    ) -> None:
        key = primary_key_of(model).attribute
        columns = inspect(model).column_attrs
        names = list(columns.keys()) if fields is None else list(fields)
        missing = [name for name in names if name not in columns]
        if missing:
            raise ValueError(f"{model.__name__} has no column attributes {', '.join(missing)}")
        if not 0 < page_size <= max_limit:
            raise ValueError(f"page_size must be 1 to max_limit ({max_limit}), not {page_size}")
        self.model = model
        #: Exposed field name -> its column; kind None when it cannot be filtered.
        self.fields: dict[str, _Field] = {}
        for name in names:
            type_ = columns[name].columns[0].type
            kind = column_kind(type_)
            raw = getattr(model, name)
            compared = ExactText(raw) if kind == TEXT else raw
            self.fields[name] = _Field(compared, kind, type_, raw)
        #: The primary key's attribute name, and its column: the last sort key.
        self.primary_key: tuple[str, ColumnElement[Any]] = (key, getattr(model, key))
        self.page_size, self.max_limit = page_size, max_limit
        self.max_depth, self.max_conditions, self.max_values = max_depth, max_conditions, max_values

    def parse(self, params: Mapping[str, str | Sequence[str]]) -> ListQuery:
        """The :class:`ListQuery` for a request's query parameters.

        :param params: ``request.args`` (repeated keys are lists), or a mapping
            of name to text or to a list of texts.
        :raises CriteriaError: naming every parameter or field that was wrong.
        """
        given = _lists(params)
        errors: dict[str, str] = {}
        budget = _Budget(self.max_conditions, self.max_values)
        clauses: list[ColumnElement[bool]] = []
        order_by: list[ColumnElement[Any]] = []
        sorted_on: set[str] = set()
        limit, offset = self.page_size, 0
        for name, values in given.items():
            try:
                if name == "_":
                    continue
                if name in RESERVED and len(values) > 1 and name != "sort":
                    raise _Invalid(name, "given more than once")
                if name == "where":
                    criteria = _decoded(values[0])
                    if criteria != {}:
                        clauses.append(self._where(criteria, budget, depth=0))
                elif name == "sort":
                    order_by, sorted_on = self._sort(values)
                elif name == "limit":
                    limit = min(_count(name, values[0], MAX_SKIP), self.max_limit)
                elif name == "skip":
                    offset = _count(name, values[0], MAX_SKIP)
                elif name in HINTS:
                    raise _Invalid(name, f"unknown parameter (use {HINTS[name]})")
                elif name in self.fields:
                    condition = values if len(values) > 1 else values[0]
                    clauses.append(self._condition(name, condition, budget))
                else:
                    raise _Invalid(name, "unknown parameter")
            except _Invalid as invalid:
                errors.setdefault(invalid.field, invalid.reason)
        if errors:
            raise CriteriaError.of(errors)
        key_name, key_column = self.primary_key
        if key_name not in sorted_on:
            order_by.append(key_column.asc())
        return ListQuery(and_(*clauses) if clauses else None, tuple(order_by), limit, offset)

    def _where(self, criteria: object, budget: _Budget, depth: int) -> ColumnElement[bool]:
        if not isinstance(criteria, dict):
            raise _Invalid("where", f"expected an object of conditions, got {_shown(criteria)}")
        if depth > self.max_depth:
            raise _Invalid("where", f"or/and nested deeper than {self.max_depth} levels")
        if depth and not criteria:
            # Every object must then hold a condition, so the condition budget also
            # bounds how many objects or/and arrays can carry.
            raise _Invalid("where", "an empty object is not a condition")
        clauses: list[ColumnElement[bool]] = []
        for name, condition in criteria.items():
            if name in ("or", "and"):
                if not isinstance(condition, list) or not condition:
                    raise _Invalid("where", f"{name} needs a non-empty array of conditions")
                parts = [self._where(part, budget, depth + 1) for part in condition]
                clauses.append(or_(*parts) if name == "or" else and_(*parts))
            else:
                clauses.append(self._condition(name, condition, budget))
        return clauses[0] if len(clauses) == 1 else and_(*clauses)

    def _condition(self, name: str, condition: object, budget: _Budget) -> ColumnElement[bool]:
        """One field's condition: a value, null, an array (``in``), or an object of operators."""
        self._field(name, "filtered")
        if not isinstance(condition, dict):
            op = "in" if isinstance(condition, list) else "="
            return self._compiled(name, op, condition, budget)
        if not condition:
            raise _Invalid(name, "an empty object is not a condition")
        clauses = []
        for given, operand in condition.items():
            if given not in OPERATORS:
                raise _Invalid(
                    name, f"unknown operator {_shown(given)}; expected one of {', '.join(_NAMED)}"
                )
            clauses.append(self._compiled(name, OPERATORS[given], operand, budget))
        return and_(*clauses)

    def _compiled(
        self, name: str, op: str, operand: object, budget: _Budget
    ) -> ColumnElement[bool]:
        budget.spend(name, conditions=1, values=len(operand) if isinstance(operand, list) else 1)
        if op in ("in", "nin") or (op == "!=" and isinstance(operand, list)):
            # Waterline 0.x: {"not": [...]} is "not in".
            return self._membership(name, op == "in", operand)
        if op in _TEXT_OPERATORS:
            return self._text_match(name, op, operand)
        column, kind, *_ = self.fields[name]
        if operand is None:
            if op in ("=", "!="):
                return column.is_(None) if op == "=" else column.is_not(None)
            raise _Invalid(name, f"{op} cannot compare with null")
        if op not in ("=", "!=") and kind not in ORDERED_KINDS:
            raise _Invalid(name, f"{op} does not apply to {kind} fields")
        clause: ColumnElement[bool] = _COMPARISONS[op](column, self._value(name, operand))
        return clause

    def _membership(self, name: str, inside: bool, operand: object) -> ColumnElement[bool]:
        """``in`` (``inside``) or ``nin``; a null in the array stands for a null field."""
        column = self.fields[name].column
        if not isinstance(operand, list):
            op = "in" if inside else "nin"
            raise _Invalid(name, f"{op} needs an array, got {_shown(operand)}")
        values = [self._value(name, item) for item in operand if item is not None]
        has_null = None in operand
        if inside:
            found = column.in_(values) if values else false()
            return or_(found, column.is_(None)) if has_null else found
        # As for !=, a null field is not in an array of values.
        if not values:
            return column.is_not(None) if has_null else true()
        if has_null:
            return and_(column.is_not(None), column.not_in(values))
        return or_(column.is_(None), column.not_in(values))

    def _text_match(self, name: str, op: str, operand: object) -> ColumnElement[bool]:
        _, kind, _, column = self.fields[name]
        if kind != TEXT:
            raise _Invalid(name, f"{op} applies to text fields only")
        if not isinstance(operand, str):
            raise _Invalid(name, f"{op} needs a string, got {_shown(operand)}")
        if op == "like":
            try:
                check_like_pattern(operand)
            except ValueError as exc:
                raise _Invalid(name, str(exc)) from None
        return matches(column, op, operand)

    def _value(self, name: str, value: object) -> Any:
        try:
            return coerce(value, self.fields[name].type)
        except ValueError as exc:
            raise _Invalid(name, str(exc)) from None

    def _field(self, name: str, used: str) -> tuple[ColumnElement[Any], str]:
        # Hidden and nonexistent columns get the same answer: neither is admitted to exist.
        if name not in self.fields:
            raise _Invalid(name, f"no such field can be {used}")
        column, kind, *_ = self.fields[name]
        if kind is None:
            raise _Invalid(name, f"this field cannot be {used}")
        return column, kind

    def _sort(self, values: list[str]) -> tuple[list[ColumnElement[Any]], set[str]]:
        terms: list[tuple[object, object]] = []
        for text in values:
            if text.lstrip()[:1] in ("{", "["):
                terms.extend(_json_sort_terms(_decoded(text, "sort")))
            else:
                terms.extend(_text_sort_terms(text))
        order_by: list[ColumnElement[Any]] = []
        seen: set[str] = set()
        for name, direction in terms:
            if not isinstance(name, str):
                raise _Invalid("sort", f"expected field names, got {_shown(name)}")
            column, _ = self._field(name, "sorted")
            descending = _DIRECTIONS.get(str(direction).lower())
            if descending is None:
                raise _Invalid(
                    "sort", f"direction {_shown(direction)} for {name}: expected ASC, DESC, 1 or -1"
                )
            if name in seen:
                raise _Invalid("sort", f"{name} is sorted on twice")
            seen.add(name)
            order_by.append(SortKey(column, descending))
        return order_by, seen


class _Field(NamedTuple):
    #: What comparisons and sorting use: text compared by code point everywhere.
    column: ColumnElement[Any]
    kind: str | None
    type: TypeEngine[Any]
    #: The column itself, for case-insensitive matching.
    raw: ColumnElement[Any]


class _Invalid(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


class _Budget:
    """What is left of one request's allowance of conditions and values."""

    def __init__(self, conditions: int, values: int) -> None:
        self.conditions, self.values = conditions, values

    def spend(self, name: str, *, conditions: int, values: int) -> None:
        self.conditions -= conditions
        self.values -= values
        if self.conditions < 0:
            raise _Invalid(name, "too many conditions in one request")
        if self.values < 0:
            raise _Invalid(name, "too many values in one request")


def _lists(params: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    if isinstance(params, MultiDict):
        return {name: list(values) for name, values in params.lists()}
    return {
        name: [value] if isinstance(value, str) else list(value) for name, value in params.items()
    }


def _decoded(text: str, name: str = "where") -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _Invalid(name, f"not valid JSON ({exc})") from None


def _count(name: str, text: str, largest: int) -> int:
    if not _COUNT.match(text) or int(text) > largest:
        raise _Invalid(name, f"expected a whole number from 0 to {largest}, got {_shown(text)}")
    return int(text)


def _text_sort_terms(text: str) -> list[tuple[object, object]]:
    terms: list[tuple[object, object]] = []
    for part in text.split(","):
        match = _SORT_TERM.match(part)
        if not match:
            expected = "'field', 'field ASC' or 'field DESC'"
            raise _Invalid("sort", f"expected {expected}, got {_shown(part)}")
        terms.append((match.group(1), match.group(2) or "asc"))
    return terms


def _json_sort_terms(decoded: object) -> list[tuple[object, object]]:
    """``{"name": -1, "age": 1}``, or a list of such objects and of ``"name DESC"`` strings."""
    items = decoded if isinstance(decoded, list) else [decoded]
    terms: list[tuple[object, object]] = []
    for item in items:
        if isinstance(item, dict):
            terms.extend(item.items())
        elif isinstance(item, str):
            terms.extend(_text_sort_terms(item))
        else:
            expected = """{"field": 1 or -1} or 'field DESC'"""
            raise _Invalid("sort", f"expected {expected}, got {_shown(item)}")
    return terms


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
