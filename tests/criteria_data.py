"""The model and seed rows the criteria tests query, and the plain-Python reference.

Every expected result in tests/test_criteria.py is computed from :data:`ROWS`
by the functions here, in plain Python, never through SQL.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Enum, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Kind(enum.Enum):
    cat = "c"
    dog = "d"
    fish = "f"


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(40))
    age: Mapped[int | None]
    height: Mapped[float | None]
    balance: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    active: Mapped[bool | None]
    born: Mapped[date | None]
    seen: Mapped[datetime | None]
    alarm: Mapped[time | None]
    token: Mapped[uuid.UUID | None]
    kind: Mapped[Kind | None] = mapped_column(Enum(Kind))
    team: Mapped[str] = mapped_column(String(10))
    secret: Mapped[str | None] = mapped_column(String(20))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


#: Every column but the hidden ``secret``; ``extra`` (JSON) is exposed but not filterable.
EXPOSED = frozenset(Person.__table__.columns.keys()) - {"secret"}

U = [uuid.UUID(int=n * 0x1111_1111_1111_1111) for n in range(1, 17)]
COLUMNS = (
    "id",
    "name",
    "age",
    "height",
    "balance",
    "active",
    "born",
    "seen",
    "alarm",
    "token",
    "kind",
    "team",
    "secret",
)
D = Decimal
# fmt: off
ROWS: list[dict[str, Any]] = [dict(zip(COLUMNS, row)) for row in [
    (1, "Zoë", 30, 1.70, D("10.50"), True, date(1990, 5, 1), datetime(2024, 1, 2, 3, 4, 5), time(7, 30), U[0], Kind.cat, "red", "s1"),
    (2, "ZOË", 41, 1.85, D("0.00"), False, date(1983, 11, 20), datetime(2024, 3, 4, 10, 0), time(12, 0), U[1], Kind.dog, "blue", "s2"),
    (3, "zoe", None, None, None, None, None, None, None, None, None, "red", None),
    (4, "ÅSA", 25, 1.62, D("99.99"), True, date(2001, 2, 3), datetime(2023, 12, 31, 23, 59, 59), time(6, 15), U[3], Kind.fish, "blue", "s4"),
    (5, "åsa", 30, 1.75, D("5.00"), False, date(1994, 7, 7), datetime(2024, 1, 2, 3, 4, 6), time(22, 45), U[4], Kind.cat, "red", "s5"),
    (6, "straße", 52, 1.80, D("-3.25"), True, date(1972, 1, 1), datetime(2022, 6, 1, 12, 0), time(7, 30), U[5], Kind.dog, "red", None),
    (7, "STRAẞE", 19, 1.91, D("7.00"), None, date(2005, 9, 9), datetime(2025, 1, 1), time(0, 0), U[6], None, "blue", "s7"),
    (8, "İstanbul", 30, 1.66, D("10.50"), True, date(1990, 5, 1), datetime(2024, 1, 2, 3, 4, 5), time(18, 0), U[7], Kind.cat, "red", "s8"),
    (9, "istanbul", 64, None, D("1.00"), False, date(1960, 2, 29), None, time(9, 0), U[8], Kind.fish, "blue", None),
    (10, None, 64, 1.55, None, True, date(2010, 10, 10), datetime(2020, 2, 2, 2, 2, 2), None, U[9], Kind.dog, "blue", "s10"),
    (11, "100%_sure", 8, 1.20, D("0.01"), True, date(2016, 4, 4), datetime(2024, 4, 4, 4, 4, 4), time(8, 0), U[10], Kind.cat, "red", "s11"),
    (12, "back\\slash", 33, 1.78, D("12.00"), False, date(1991, 1, 1), datetime(2019, 9, 9, 9, 9, 9), time(23, 59, 59), U[11], Kind.fish, "blue", "s12"),
    (13, "ΟΔΟΣ", 47, 1.69, D("3.30"), None, date(1977, 7, 7), datetime(2021, 7, 7, 7, 7, 7), time(13, 13), U[12], Kind.dog, "red", "s13"),
    (14, "Randy", 30, 1.82, D("42.00"), True, None, datetime(2024, 1, 2, 3, 4, 5), time(7, 30), U[13], Kind.cat, "blue", "s14"),
    (15, "", 5, 1.10, D("0.00"), False, date(2019, 3, 3), datetime(2023, 3, 3, 3, 3, 3), time(5, 5), U[14], None, "red", "s15"),
    (16, "ab_%", 30, None, None, None, None, None, None, None, None, "blue", None),
]]
# fmt: on


def people() -> list[Person]:
    """The seed rows as new model instances."""
    return [Person(**row) for row in ROWS]


def ids_where(predicate: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Ids of the seed rows ``predicate`` accepts, in id order."""
    return [row["id"] for row in ROWS if predicate(row)]


def has(field: str, test: Callable[[Any], bool]) -> Callable[[dict[str, Any]], bool]:
    """A predicate true when the row's ``field`` is not null and passes ``test``."""
    return lambda row: row[field] is not None and test(row[field])


def folded(field: str, test: Callable[[str], bool]) -> Callable[[dict[str, Any]], bool]:
    """A predicate on the lowercased (Python ``str.lower``) text of a non-null ``field``."""
    return has(field, lambda value: test(value.lower()))


def like(pattern: str) -> Callable[[str], bool]:
    """SQL LIKE with ``\\`` escapes, on already lowercased text, as a regular expression."""
    pattern = pattern.lower()
    regex, index = "", 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            regex += re.escape(pattern[index + 1])
            index += 2
            continue
        regex += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        index += 1
    return lambda text: re.fullmatch(regex, text, re.DOTALL) is not None


def sorted_ids(*keys: tuple[str, bool], rows: list[dict[str, Any]] | None = None) -> list[int]:
    """Ids sorted by ``(field, descending)`` keys, nulls first going up and last going
    down, then by id: the order every database must give."""
    result = sorted(rows if rows is not None else ROWS, key=lambda row: row["id"])
    for field, descending in reversed(keys):
        present = [row for row in result if row[field] is not None]
        missing = [row for row in result if row[field] is None]
        present.sort(key=lambda row: row[field], reverse=descending)  # stable: ties keep id order
        result = present + missing if descending else missing + present
    return [row["id"] for row in result]
