"""The column policy of a blueprint: what clients may see and write, checked per value.

A create or update body (JSON or form-encoded) may only carry writable columns:
an unknown, hidden, read-only or primary-key field, a value of the wrong type,
a null in a non-null column, text longer than its column, or (on create) a
missing required column or a key no URL can reach (one containing ``/``) is an
error naming the field. An update may carry the primary key and read-only
fields with their stored values (ignored), as a GET answered them. Constraint violations
the database reports on flush are named the same way (409 for a unique clash).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from ..model import hidden_of, primary_key_of
from .coerce import coerce, column_kind
from .errors import FieldErrors


class InvalidBody(FieldErrors):
    """A create or update body a client got wrong."""

    summary = "invalid values"


@dataclass(frozen=True)
class Columns:
    """What clients may see and write of one model, worked out once per blueprint.

    :param hidden: attributes never serialised, filtered, sorted or written
        (the model's own ``__sockpub_hidden__``, and those of its blueprints
        made before, are added).
    :param read_only: attributes shown but never written.
    """

    model: type[Any]
    #: Attribute name -> column, for every column attribute of the model.
    columns: dict[str, sa.Column[Any]]
    primary_key: str
    hidden: frozenset[str]
    read_only: frozenset[str]

    @classmethod
    def of(
        cls, model: type[Any], hidden: Iterable[str] = (), read_only: Iterable[str] = ()
    ) -> Columns:
        """The columns of ``model``; unknown names in ``hidden`` or ``read_only`` are a ``ValueError``."""
        primary_key = primary_key_of(model).attribute
        columns = {prop.key: prop.columns[0] for prop in sa.inspect(model).column_attrs}
        hidden, read_only = frozenset(hidden), frozenset(read_only)
        unknown = sorted((hidden | read_only) - columns.keys())
        if unknown:
            raise ValueError(f"{model.__name__} has no column attributes {', '.join(unknown)}")
        # Hidden for the model (its declaration, blueprints made before) is
        # hidden here too; the declaration may also name what only its
        # serialiser makes.
        hidden |= hidden_of(model) & columns.keys()
        if primary_key in hidden:
            raise ValueError(
                f"{model.__name__}.{primary_key} is the primary key: it cannot be hidden"
            )
        return cls(model, columns, primary_key, hidden, read_only)

    @property
    def exposed(self) -> list[str]:
        """Attributes clients may see, filter and sort on."""
        return [key for key in self.columns if key not in self.hidden]

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        """A serialised record without its hidden attributes."""
        if not self.hidden:
            return record
        return {key: value for key, value in record.items() if key not in self.hidden}

    def key_is_given_on_create(self) -> bool:
        """Whether clients must send the primary key to create (it has no default of any kind)."""
        column = self.columns[self.primary_key]
        generated = (
            column.default is not None
            or column.server_default is not None
            or (column.autoincrement is True or column.autoincrement == "auto")
            and column_kind(column.type) == "integer"
        )
        return not generated

    def checked_values(
        self, body: Mapping[str, Any], *, creating: bool, stored: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The body's values converted for their columns.

        :param stored: on update, the record as clients see it. The primary key
            and read-only attributes may then carry their stored value, which is
            ignored: a client can send a record back as it received it.
        :raises InvalidBody: naming every field that is wrong.
        """
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, value in body.items():
            reason = self._refusal(name, creating)
            if reason is None:
                try:
                    values[name] = self._converted(name, value)
                except ValueError as exc:
                    reason = str(exc)
                else:
                    if creating and name == self.primary_key:
                        reason = _unreachable_key(values[name])
            elif stored is not None and self._unchanged(name, value, stored):
                continue  # the primary key or a read-only value, sent back as it is
            if reason is not None:
                errors[str(name)[:100]] = reason
        if creating:
            for name in self._required():
                if name not in body and name not in errors:
                    errors[name] = "required"
        if errors:
            raise InvalidBody.of(errors)
        return values

    def _refusal(self, name: Any, creating: bool) -> str | None:
        if not isinstance(name, str) or name not in self.columns or name in self.hidden:
            return "unknown attribute"
        if name == self.primary_key and not (creating and self.key_is_given_on_create()):
            return "the primary key cannot be set"
        if name in self.read_only:
            return "read-only"
        return None

    def _unchanged(self, name: str, value: Any, stored: Mapping[str, Any]) -> bool:
        """Whether a client's ``value`` for a shown attribute is the one ``stored`` (as serialised)."""
        if name not in stored or name in self.hidden:
            return False
        current = stored[name]
        if isinstance(value, bool) != isinstance(current, bool):
            return False  # True == 1 in Python, not for the client
        if value == current:
            return True
        try:  # "7" from a form is 7; an ISO text is the datetime it names
            return bool(self._converted(name, value) == self._converted(name, current))
        except ValueError:
            return False

    def _converted(self, name: str, value: Any) -> Any:
        column = self.columns[name]
        if value is None:
            if not column.nullable:
                raise ValueError("may not be null")
            return None
        if column_kind(column.type) is None:
            return value  # JSON and other free-form columns take the value as sent
        converted = coerce(value, column.type)
        length = getattr(column.type, "length", None)
        if isinstance(converted, str) and length is not None and len(converted) > length:
            raise ValueError(f"at most {length} characters, got {len(converted)}")
        return converted

    def _required(self) -> list[str]:
        required = []
        for name, column in self.columns.items():
            if name == self.primary_key:
                if self.key_is_given_on_create():
                    required.append(name)
            elif (
                not column.nullable
                and column.default is None
                and column.server_default is None
                and name not in self.read_only
                and name not in self.hidden
            ):
                required.append(name)
        return required

    def database_refusal(self, error: DBAPIError) -> InvalidBody:
        """What a constraint violation or data error reported on flush means for the client."""
        code = sqlstate(error.orig)
        errno = mysql_errno(error.orig)
        text = str(error.orig)
        reason, status = "refused by the database", 400
        for refusal in _REFUSALS:
            if (
                code == refusal.sqlstate
                or errno in refusal.mysql_errnos
                or refusal.sqlite_text in text
            ):
                reason, status = refusal.meaning, refusal.status
                break
        fields = {name: reason for name in self._fields_named_in(error)}
        if fields:
            return InvalidBody.of(fields, status)
        return InvalidBody(f"the values were {reason}", {}, status)

    def _fields_named_in(self, error: DBAPIError) -> list[str]:
        """The attributes an error message names, as far as it names them."""
        by_column_name = {column.name: key for key, column in self.columns.items()}
        diag = getattr(error.orig, "diag", None)
        names: list[str] = []
        if diag is not None:  # PostgreSQL: psycopg 3 and psycopg2
            if getattr(diag, "column_name", None):
                names.append(diag.column_name)
            detail = getattr(diag, "message_detail", None) or ""
            match = _PG_KEY.search(detail)
            if match:
                names.extend(part.strip() for part in match.group(1).split(","))
        elif mysql_errno(error.orig) is not None:  # MariaDB and MySQL
            match = _MYSQL_NAMES.search(str(error.orig))
            if match:
                names.append(match.group(1))
        else:
            match = _SQLITE_COLUMNS.search(str(error.orig))
            if match:
                names.extend(part.strip().rsplit(".", 1)[-1] for part in match.group(1).split(","))
        return [
            by_column_name[name]
            for name in names
            if name in by_column_name and by_column_name[name] not in self.hidden
        ]


def sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE of a PostgreSQL driver's error: psycopg 3, psycopg2, pg8000, asyncpg."""
    for attribute in ("sqlstate", "pgcode"):  # psycopg 3 and asyncpg; psycopg2
        code = getattr(error, attribute, None)
        if isinstance(code, str):
            return code
    args: tuple[Any, ...] = getattr(error, "args", ())
    if args and isinstance(args[0], dict):  # pg8000: the server's error fields
        code = args[0].get("C")
        return code if isinstance(code, str) else None
    return None


def mysql_errno(error: BaseException | None) -> int | None:
    """The error number of a MySQL or MariaDB driver's error (PyMySQL, mysqlclient), if any."""
    args: tuple[Any, ...] = getattr(error, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return args[0]
    return None


class _Refusal(NamedTuple):
    sqlstate: str
    mysql_errnos: frozenset[int]
    sqlite_text: str
    meaning: str
    status: int


_REFUSALS = (
    _Refusal("23505", frozenset({1062, 1586}), "UNIQUE constraint failed", "already taken", 409),
    _Refusal(
        "23502", frozenset({1048, 1364}), "NOT NULL constraint failed", "may not be null", 400
    ),
    _Refusal(
        "23503",
        frozenset({1216, 1452}),
        "FOREIGN KEY constraint failed",
        "refers to a row that does not exist",
        400,
    ),
    _Refusal(
        "23514",
        frozenset({3819, 4025}),
        "CHECK constraint failed",
        "refused by a check constraint",
        400,
    ),
    _Refusal("22001", frozenset({1406}), "value too long", "too long for its column", 400),
)
#: Keys no URL of a blueprint can reach: routing never matches them as ``<id>``.
_UNREACHABLE_KEYS = frozenset({"", ".", ".."})


def _unreachable_key(key: Any) -> str | None:
    """Why a primary key given on create could not appear in a record's URL, or ``None``."""
    if not isinstance(key, str):
        return None
    if "/" in key:
        return "may not contain '/': no URL could reach the record"
    if key in _UNREACHABLE_KEYS:
        return f"{key!r} cannot name a record in a URL"
    return None


_PG_KEY = re.compile(r"Key \((.+?)\)=")
_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$")
#: "Duplicate entry 'x' for key 'name'", "Column 'name' cannot be null", ...
_MYSQL_NAMES = re.compile(r"(?:for key|[Cc]olumn) '(?:[^'.]+\.)?([^'.]+)'")
