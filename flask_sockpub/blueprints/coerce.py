"""Client values (query-string text or JSON) converted to a column's Python type.

Query strings carry only text, JSON carries numbers, booleans and strings: both
arrive here and leave as the value the column's type binds (``int``, ``float``,
``Decimal``, ``bool``, ``date``, ``datetime``, ``time``, ``UUID``, ``str``, or an
``Enum`` column's stored name). Anything else is a :class:`ValueError` whose
message says what was expected, ready to be shown to the client.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import types as sqltypes

#: Kinds of column a client may filter and sort on, by the SQLAlchemy type they come from.
BOOLEAN, INTEGER, FLOAT, DECIMAL, TEXT, ENUM, DATE, DATETIME, TIME, UUID = (
    "boolean",
    "integer",
    "float",
    "decimal",
    "text",
    "enum",
    "date",
    "datetime",
    "time",
    "uuid",
)

#: Kinds that ``<``, ``<=``, ``>`` and ``>=`` apply to.
ORDERED_KINDS = frozenset({INTEGER, FLOAT, DECIMAL, TEXT, DATE, DATETIME, TIME})

# Bounds that keep a hostile value from reaching the database driver as an
# overflow (a 500) instead of a 400: SQLite and PostgreSQL bigints are 64-bit.
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,19}\Z")
_NUMBER_TEXT = re.compile(
    r"[+-]?([0-9]{1,40}(\.[0-9]{0,40})?|\.[0-9]{1,40})([eE][+-]?[0-9]{1,3})?\Z"
)
_BOOLEAN_TEXT = {"true": True, "1": True, "false": False, "0": False}


def column_kind(type_: sqltypes.TypeEngine[Any]) -> str | None:
    """The kind of values a column of this type holds, or ``None`` when clients
    cannot filter or sort on it (JSON, binary, arrays, intervals...).

    A ``TypeDecorator`` counts as the type it decorates.
    """
    if isinstance(type_, sqltypes.Interval):
        return None
    if isinstance(type_, sqltypes.TypeDecorator):
        return column_kind(type_.impl_instance)
    if isinstance(type_, sqltypes.Boolean):
        return BOOLEAN
    if isinstance(type_, sqltypes.Integer):
        return INTEGER
    # Float is a Numeric subclass in SQLAlchemy 2.0 but not in 2.1: both carry asdecimal.
    if isinstance(type_, (sqltypes.Float, sqltypes.Numeric)):
        return DECIMAL if type_.asdecimal else FLOAT
    if isinstance(type_, sqltypes.Enum):  # an Enum is also a String
        return ENUM
    if isinstance(type_, sqltypes.String):
        return TEXT
    if isinstance(type_, sqltypes.DateTime):
        return DATETIME
    if isinstance(type_, sqltypes.Date):
        return DATE
    if isinstance(type_, sqltypes.Time):
        return TIME
    if isinstance(type_, sqltypes.Uuid):
        return UUID
    return None


def expected(type_: sqltypes.TypeEngine[Any]) -> str:
    """What a client must send for this type, in words (``"an integer"``)."""
    kind = column_kind(type_)
    if kind == ENUM:
        return "one of " + ", ".join(repr(name) for name in _enum_names(type_))
    return _EXPECTED.get(kind or "", "a value of a type that cannot be filtered")


def coerce(value: object, type_: sqltypes.TypeEngine[Any]) -> Any:
    """``value`` converted for a column of type ``type_``.

    :param value: text from a query string or form, or a decoded JSON value.
    :raises ValueError: the value does not fit; the message says what was expected,
        e.g. ``expected an integer, got 'abc'``.
    """
    kind = column_kind(type_)
    try:
        if kind == ENUM:
            if isinstance(value, str) and value in _enum_names(type_):
                return value
            raise ValueError
        if kind is None:
            raise ValueError
        result = _CONVERTERS[kind](value)
        if kind == DATETIME:
            result = _as_column_zone(result, getattr(type_, "timezone", False))
        if kind == UUID and not getattr(type_, "as_uuid", True):
            result = str(result)
        return result
    except (ValueError, TypeError, ArithmeticError):
        raise ValueError(f"expected {expected(type_)}, got {_shown(value)}") from None


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _BOOLEAN_TEXT:
        return _BOOLEAN_TEXT[value.lower()]
    raise ValueError


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value):
        value = int(value)
    if isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return value
    raise ValueError


def _float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str) and _NUMBER_TEXT.match(value):
        value = float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    raise ValueError


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)) and math.isfinite(value):
        return Decimal(repr(value))
    if isinstance(value, str) and _NUMBER_TEXT.match(value):
        return Decimal(value)
    raise ValueError


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ValueError


def _iso(parse: Callable[[str], Any]) -> Callable[[object], Any]:
    def parsed(value: object) -> Any:
        # fromisoformat before Python 3.11 does not read the common "Z" suffix.
        if isinstance(value, str) and len(value) <= 40:
            return parse(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
        raise ValueError

    return parsed


def _uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and len(value) <= 45:
        return uuid.UUID(value)
    raise ValueError


def _as_column_zone(value: datetime, aware_column: bool) -> datetime:
    """Naive datetimes are taken as UTC: aware values become naive UTC for naive
    columns, and naive values become UTC for timezone-aware columns."""
    if aware_column:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if value.tzinfo:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _enum_names(type_: sqltypes.TypeEngine[Any]) -> list[str]:
    while isinstance(type_, sqltypes.TypeDecorator):
        type_ = type_.impl_instance
    return list(type_.enums) if isinstance(type_, sqltypes.Enum) else []


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_CONVERTERS: dict[str, Callable[[object], Any]] = {
    BOOLEAN: _boolean,
    INTEGER: _integer,
    FLOAT: _float,
    DECIMAL: _decimal,
    TEXT: _text,
    DATE: _iso(date.fromisoformat),
    DATETIME: _iso(datetime.fromisoformat),
    TIME: _iso(time.fromisoformat),
    UUID: _uuid,
}

_EXPECTED = {
    BOOLEAN: "a boolean (true, false, 1 or 0)",
    INTEGER: "an integer",
    FLOAT: "a number",
    DECIMAL: "a decimal number",
    TEXT: "a string",
    DATE: "an ISO 8601 date (2024-01-31)",
    DATETIME: "an ISO 8601 date and time (2024-01-31T12:00:00Z)",
    TIME: "an ISO 8601 time (12:00:00)",
    UUID: "a UUID",
}
