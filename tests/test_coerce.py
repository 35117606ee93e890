"""Client values converted to a column's Python type (flask_sockpub.blueprints.coerce)."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    String,
    Text,
    Time,
    TypeDecorator,
    Uuid,
    create_engine,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from flask_sockpub.blueprints.coerce import coerce, column_kind, expected

UTC = timezone.utc
AN_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class Colour(enum.Enum):
    red = "r"
    green = "g"


class Lowercase(TypeDecorator[str]):
    impl = String
    cache_ok = True


@pytest.mark.parametrize(
    ("type_", "given", "result"),
    [
        (Integer(), "42", 42),
        (Integer(), "-7", -7),
        (Integer(), 42, 42),
        (Integer(), 42.0, 42),
        (BigInteger(), str(2**63 - 1), 2**63 - 1),
        (Float(), "1.5", 1.5),
        (Float(), "-2e3", -2000.0),
        (Float(), 3, 3.0),
        (Double(), ".5", 0.5),
        (Numeric(10, 2), "10.50", Decimal("10.50")),
        (Numeric(10, 2), 0.1, Decimal("0.1")),
        (Numeric(10, 2), 7, Decimal(7)),
        (Numeric(asdecimal=False), "2.25", 2.25),
        (Boolean(), True, True),
        (Boolean(), "false", False),
        (Boolean(), "TRUE", True),
        (Boolean(), "1", True),
        (Boolean(), 0, False),
        (String(), "Zoë", "Zoë"),
        (Text(), "", ""),
        (Lowercase(), "ÅSA", "ÅSA"),
        (Date(), "2024-02-29", date(2024, 2, 29)),
        (DateTime(), "2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5)),
        (DateTime(), "2024-01-02T03:04:05.123Z", datetime(2024, 1, 2, 3, 4, 5, 123000)),
        (DateTime(), "2024-01-02T05:04:05+02:00", datetime(2024, 1, 2, 3, 4, 5)),
        (DateTime(timezone=True), "2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            DateTime(timezone=True),
            "2024-01-02T05:04:05+02:00",
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        (Time(), "07:30", time(7, 30)),
        (Uuid(), str(AN_ID), AN_ID),
        (Uuid(), AN_ID.hex, AN_ID),
        (Uuid(as_uuid=False), AN_ID.hex.upper(), str(AN_ID)),
        (postgresql.UUID(), str(AN_ID), AN_ID),
        (Enum(Colour), "green", "green"),
        (Enum("small", "large", name="size"), "large", "large"),
        (Enum(Colour, values_callable=lambda e: [m.value for m in e]), "g", "g"),
    ],
)
def test_values_are_converted_to_the_column_type(type_: Any, given: object, result: object) -> None:
    converted = coerce(given, type_)
    assert converted == result and type(converted) is type(result)


@pytest.mark.parametrize(
    ("type_", "given"),
    [
        (Integer(), "4.5"),
        (Integer(), " 4"),
        (Integer(), "1_000"),
        (Integer(), 4.5),
        (Integer(), False),
        (Integer(), "9" * 5000),
        (Integer(), None),
        (Float(), "inf"),
        (Float(), "1e999"),
        (Float(), "0x10"),
        (Float(), True),
        (Numeric(), "NaN"),
        (Numeric(), "Infinity"),
        (Numeric(), "1" * 41),
        (Boolean(), "yes"),
        (Boolean(), 2),
        (String(), 5),
        (String(), ["a"]),
        (Date(), "2024-02-30"),
        (Date(), "2024-01-02T00:00:00"),
        (DateTime(), "tomorrow"),
        (DateTime(), "2024-01-02T03:04:05" + "0" * 100),
        (Time(), "24:00"),
        (Uuid(), "1234"),
        (Uuid(), 5),
        (Enum(Colour), "r"),
        (Enum(Colour), "purple"),
    ],
)
def test_values_that_do_not_fit_say_what_was_expected(type_: Any, given: object) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(f"expected {expected(type_)}, got ")):
        coerce(given, type_)


@pytest.mark.parametrize("type_", [JSON(), LargeBinary(), Interval(), postgresql.ARRAY(Integer)])
def test_types_clients_cannot_filter_on_have_no_kind(type_: Any) -> None:
    assert column_kind(type_) is None
    with pytest.raises(ValueError, match="cannot be filtered"):
        coerce("x", type_)


def test_expected_names_the_enum_members() -> None:
    assert expected(Enum(Colour)) == "one of 'red', 'green'"


class _Base(DeclarativeBase):
    pass


class Paint(_Base):
    __tablename__ = "paint"
    id: Mapped[int] = mapped_column(primary_key=True)
    by_name: Mapped[Colour] = mapped_column(Enum(Colour))
    by_value: Mapped[Colour] = mapped_column(
        Enum(Colour, values_callable=lambda e: [m.value for m in e], name="by_value")
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False))


def test_coerced_enum_and_datetime_values_match_stored_rows() -> None:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        green, red = Colour.green, Colour.red
        session.add(Paint(id=1, by_name=green, by_value=green, at=datetime(2024, 1, 2, 3, 4, 5)))
        session.add(Paint(id=2, by_name=red, by_value=red, at=datetime(2024, 1, 2, 3, 4, 6)))
        session.commit()
        columns = Paint.__table__.c
        given_values = [
            (columns.by_name, "green"),
            (columns.by_value, "g"),
            (columns.at, "2024-01-02T04:04:05+01:00"),
        ]
        for column, given in given_values:
            found = session.scalars(
                select(Paint.id).where(column == coerce(given, column.type))
            ).all()
            assert found == [1], column.name
    engine.dispose()
