"""Scopes (flask_sockpub.scopes): Python and SQL take the same rows on SQLite, PostgreSQL and MariaDB.

Each scope expression's rows in SQL (``select(...).where(scope.clause())``)
must equal the rows :meth:`Scope.selects` takes in Python from
:func:`column_values`, carried through JSON as the message queue carries
them. The rows hold NULLs and text that the databases' own collations would
confuse: case, trailing spaces, accents, ``ß``.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from flask_sockpub.blueprints.criteria import ListCriteria
from flask_sockpub.scopes import Scope, ScopeError, column_values, scope_of
from tests.databases import database_of_kind

ROOT = Path(__file__).resolve().parent.parent

#: A case-insensitive collation per database: a scope must compare exactly anyway.
CASE_INSENSITIVE = {
    "sqlite": "NOCASE",
    "postgresql": "sockpub_case_insensitive",
    "mariadb": "utf8mb4_unicode_ci",
}


class Base(DeclarativeBase):
    pass


class Colour(enum.Enum):
    red = "Red"
    green = "Green"


class Thing(Base):
    __tablename__ = "scope_thing"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    number: Mapped[int | None] = mapped_column(sa.Integer)
    name: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    # The column declares a case-insensitive collation on each database.
    folded: Mapped[str | None] = mapped_column(
        sa.String(20, collation=CASE_INSENSITIVE["mariadb"])
        .with_variant(sa.String(20, collation=CASE_INSENSITIVE["sqlite"]), "sqlite")
        .with_variant(sa.String(20, collation=CASE_INSENSITIVE["postgresql"]), "postgresql")
    )
    flag: Mapped[bool | None] = mapped_column(sa.Boolean)
    day: Mapped[date | None] = mapped_column(sa.Date)
    colour: Mapped[Colour | None] = mapped_column(sa.Enum(Colour, name="scope_colour"))
    token: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)


class Other(Base):
    __tablename__ = "scope_other"

    id: Mapped[int] = mapped_column(primary_key=True)
    thing_id: Mapped[int | None] = mapped_column(sa.Integer)
    ratio: Mapped[float | None] = mapped_column(sa.Float)


TEXTS = ["Bob", "bob", "Bob ", "BOB", "ß", "ss", "é", "e", "É", "e\u0301", "", None, " Bob"]
NUMBERS = [None, 0, 1, 2, 7, -3, 1]
FLAGS = [True, False, None]
DAYS = [None, date(2024, 1, 31), date(2024, 2, 1)]
COLOURS = [Colour.red, None, Colour.green]
TOKENS = [
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    None,
    uuid.UUID("ABCDEF00-0000-4000-8000-000000000001"),
    uuid.UUID("00000000-0000-0000-0000-000000000000"),
]
TOKEN = TOKENS[2]


def things() -> list[Thing]:
    """40 rows mixing every value of every column (the lists' lengths are coprime-ish)."""
    return [
        Thing(
            id=index + 1,
            number=NUMBERS[index % len(NUMBERS)],
            name=TEXTS[index % len(TEXTS)],
            folded=TEXTS[(index * 5) % len(TEXTS)],
            flag=FLAGS[index % len(FLAGS)],
            day=DAYS[(index // 2) % len(DAYS)],
            colour=COLOURS[(index // 3) % len(COLOURS)],
            token=TOKENS[index % len(TOKENS)],
            blob=b"\x00\xff" if index % 2 else None,
        )
        for index in range(40)
    ]


T = Thing
#: (test id, scope expression): every supported form, alone and nested.
EXPRESSIONS: list[tuple[str, Any]] = [
    ("number == 7", T.number == 7),
    ("number != 7", T.number != 7),
    ("7 == number", 7 == T.number),
    ("number == '7'", T.number == "7"),
    ("number is None", T.number.is_(None)),
    ("number == None", T.number == None),  # noqa: E711
    ("number is not None", T.number.is_not(None)),
    ("number != None", T.number != None),  # noqa: E711
    ("number in [1, 2, None]", T.number.in_([1, 2, None])),
    ("number in []", T.number.in_([])),
    ("number in [None]", T.number.in_([None])),
    ("number not in [1, 2]", T.number.not_in([1, 2])),
    ("number not in [1, None]", T.number.not_in([1, None])),
    ("number not in []", T.number.not_in([])),
    ("not (number in [1, None])", ~T.number.in_([1, None])),
    ("not (number not in [1, None])", sa.not_(T.number.not_in([1, None]))),
    ("name == 'Bob'", T.name == "Bob"),
    ("name == 'bob'", T.name == "bob"),
    ("name == 'Bob '", T.name == "Bob "),
    ("name != 'Bob'", T.name != "Bob"),
    ("name == 'ss'", T.name == "ss"),
    ("name == 'e'", T.name == "e"),
    ("name == ''", T.name == ""),
    ("name in ['ß', 'é', '']", T.name.in_(["ß", "é", ""])),
    ("name not in ['Bob', 'e']", T.name.not_in(["Bob", "e"])),
    ("folded == 'Bob'", T.folded == "Bob"),
    ("folded in ['bob', 'É']", T.folded.in_(["bob", "É"])),
    ("folded != 'bob'", T.folded != "bob"),
    ("flag", T.flag),
    ("~flag", ~T.flag),
    ("flag == False", T.flag == False),  # noqa: E712
    ("flag != True", T.flag != True),  # noqa: E712
    ("not flag is None", ~T.flag.is_(None)),
    ("day == 2024-01-31", T.day == date(2024, 1, 31)),
    ("day != '2024-02-01'", T.day != "2024-02-01"),
    ("colour == Colour.red", T.colour == Colour.red),
    ("colour in ['green', None]", T.colour.in_(["green", None])),
    ("token == TOKEN", T.token == TOKEN),
    ("token != str(TOKEN)", T.token != str(TOKEN).upper()),
    ("flag or number == 7", sa.or_(T.flag == True, T.number == 7)),  # noqa: E712
    (
        "number in [1, 2, 7] and (name == 'Bob' or name is None)",
        sa.and_(T.number.in_([1, 2, 7]), sa.or_(T.name == "Bob", T.name.is_(None))),
    ),
    ("not (number == 1 and name == 'bob')", sa.not_(sa.and_(T.number == 1, T.name == "bob"))),
    ("not (number != 2 or flag)", ~sa.or_(T.number != 2, T.flag)),
    (
        "(name != 'Bob' and number is not None) or (flag == False and day is None)",
        sa.or_(
            sa.and_(T.name != "Bob", T.number != None),  # noqa: E711
            sa.and_(T.flag == False, T.day == None),  # noqa: E711, E712
        ),
    ),
    (
        "not (number in [1, None] and name == 'e')",
        ~sa.and_(T.number.in_([1, None]), T.name == "e"),
    ),
    ("true and name == 'é'", sa.and_(sa.true(), T.name == "é")),
    ("false or folded == 'ss'", sa.or_(sa.false(), T.folded == "ss")),
    ("not not name in ['Bob', 'bob']", ~sa.not_(T.name.in_(["Bob", "bob"]))),
    ("sa.true()", sa.true()),
    ("sa.false()", sa.false()),
    ("True", True),
    ("False", False),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The seeded ``scope_thing`` table, on a fresh database of each kind."""
    with database_of_kind(request.param, "scopes", tmp_path_factory.mktemp("scopes")) as url:
        engine = create_engine(url)
        if request.param == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f'CREATE COLLATION "{CASE_INSENSITIVE["postgresql"]}" '
                    "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
                )
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(things())
            session.commit()
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def carried(engine: Engine) -> dict[int, dict[str, Any]]:
    """Each row's :func:`column_values`, read from the database and carried through JSON."""
    with Session(engine) as session:
        rows = session.scalars(select(Thing)).all()
        return {row.id: json.loads(json.dumps(column_values(row))) for row in rows}


def sql_ids(engine: Engine, clause: Any) -> set[int]:
    with Session(engine) as session:
        return set(session.scalars(select(Thing.id).where(clause)))


@pytest.mark.parametrize(
    "expression", [expression for _, expression in EXPRESSIONS], ids=[i for i, _ in EXPRESSIONS]
)
def test_python_and_sql_select_the_same_rows(
    engine: Engine, carried: dict[int, dict[str, Any]], expression: Any
) -> None:
    scope = scope_of(Thing, expression)
    in_python = {id_ for id_, values in carried.items() if scope.selects(values)}
    in_sql = sql_ids(engine, scope.clause())
    assert in_python == in_sql, (
        f"{engine.dialect.name}: scope {scope.key!r}: only in SQL {sorted(in_sql - in_python)}, "
        f"only in Python {sorted(in_python - in_sql)}"
    )


#: Expressions that take every row or none, by SQL's rules.
CONSTANT = {
    "number in []": False,
    "number in [None]": False,
    "number not in [1, None]": False,
    "not (number in [1, None])": False,
    "number not in []": True,
    "sa.true()": True,
    "sa.false()": False,
    "True": True,
    "False": False,
}


def test_the_expressions_discriminate() -> None:
    """Every expression takes some rows and leaves some out, but those that take all or none."""
    values = [column_values(row) for row in things()]
    taken = {
        label: {scope_of(Thing, expression).selects(v) for v in values}
        for label, expression in EXPRESSIONS
    }
    assert {label for label, found in taken.items() if len(found) < 2} == set(CONSTANT)
    assert {label: found.pop() for label, found in taken.items() if label in CONSTANT} == CONSTANT


def test_the_databases_own_text_equality_would_disagree(engine: Engine) -> None:
    """The rows make a plain ``=`` go wrong: MariaDB's collation on ``name``, and
    the declared case-insensitive collation of ``folded`` on every database."""
    exact = {row.id for row in things() if row.folded == "Bob"}
    assert sql_ids(engine, Thing.folded == "Bob") > exact
    if engine.dialect.name == "mariadb":
        exact = {row.id for row in things() if row.name == "Bob"}
        assert sql_ids(engine, Thing.name == "Bob") > exact


def test_the_database_holds_what_python_wrote(
    engine: Engine, carried: dict[int, dict[str, Any]]
) -> None:
    """So a row published before it is read back is judged by the values SQL sees."""
    written = {row.id: json.loads(json.dumps(column_values(row))) for row in things()}
    assert carried == written


def test_column_values_hold_every_column_json_can_carry() -> None:
    thing = things()[2]
    values = column_values(thing)
    assert set(values) == {c.key for c in sa.inspect(Thing).column_attrs}
    assert values["blob"] is None
    assert "blob" not in column_values(things()[1]), "bytes are left out"
    assert values["colour"] == "red"
    assert values["token"] == str(thing.token)
    assert values["day"] == thing.day.isoformat()  # type: ignore[union-attr]


def test_an_enum_scope_compares_the_stored_name() -> None:
    scope = scope_of(Thing, Thing.colour == Colour.red)
    assert scope == scope_of(Thing, Thing.colour == "red")
    assert scope.selects({"colour": "red"})
    assert not scope.selects({"colour": "Red"})


# (test id, expression, words the error must contain): expressions over Thing
REFUSED: list[tuple[str, Any, str]] = [
    ("like", T.name.like("B%"), "'like' is not supported"),
    ("ilike", T.name.ilike("b%"), "'ilike' is not supported"),
    ("contains", T.name.contains("o"), "'contains' is not supported"),
    ("startswith", T.name.startswith("B"), "'startswith' is not supported"),
    ("less than", T.number < 3, "'<' is not supported"),
    ("greater or equal", T.number >= 3, "'>=' is not supported"),
    ("between", T.number.between(1, 3), "'between' is not supported"),
    ("distinct from", T.number.is_distinct_from(3), "'is_distinct_from' is not supported"),
    ("column to column", T.number == T.id, "not with other columns"),
    ("another model", Other.thing_id == 1, "scope_other.thing_id is not a column of Thing"),
    ("function", sa.func.lower(T.name) == "bob", "the function lower() is not a column"),
    ("arithmetic", T.number + 1 == 3, "'+' is not a column"),
    ("cast", sa.cast(T.name, sa.Integer) == 3, "cast() is not a column"),
    ("collate", T.name.collate("NOCASE") == "bob", "'collate' is not a column"),
    ("subquery", T.number.in_(select(Other.thing_id)), "a subquery is not a value"),
    ("exists", sa.exists().where(Other.thing_id == T.id), "a subquery is not supported"),
    ("text", sa.text("number = 1"), "text() is not supported"),
    ("is true", T.flag.is_(True), "compare with None only"),
    ("bare non-boolean column", T.number, "a column alone is a condition only when it is Boolean"),
    ("a string", "number = 1", "a str is not supported"),
    ("bindparam without value", T.number == sa.bindparam("n"), "bindparam() without a value"),
    ("integer literal not an integer", T.number == "seven", "expected an integer, got 'seven'"),
    ("text literal not text", T.name == 7, "expected a string, got 7"),
    ("date literal not a date", T.day == "31/01/2024", "expected an ISO 8601 date"),
    ("enum literal not a member", T.colour == "blue", "expected one of 'red', 'green'"),
    ("NUL in text", T.name == "a\x00b", "NUL"),
    ("lone surrogate", T.name == "\ud800", "lone surrogate"),
    ("bytes column", T.blob == b"x", "LargeBinary column, which a scope cannot compare"),
]


@pytest.mark.parametrize(
    ("expression", "words"),
    [(expression, words) for _, expression, words in REFUSED],
    ids=[label for label, _, _ in REFUSED],
)
def test_unsupported_expressions_are_refused_naming_the_part(expression: Any, words: str) -> None:
    with pytest.raises(ScopeError) as refused:
        scope_of(Thing, expression)
    assert words in str(refused.value)
    assert isinstance(refused.value, TypeError)


@pytest.mark.parametrize(
    ("type_", "words"),
    [
        (sa.Float(), "floats compare by precision"),
        (sa.Numeric(10, 2), "Numeric values are rounded"),
        (sa.DateTime(), "fractional seconds and time zones"),
        (sa.Time(), "fractional seconds"),
        (sa.CHAR(5), "fixed-width CHAR"),
        (sa.JSON(), "JSON column"),
    ],
    ids=["float", "numeric", "datetime", "time", "char", "json"],
)
def test_column_types_python_and_sql_could_disagree_on_are_refused(type_: Any, words: str) -> None:
    class Own(DeclarativeBase):
        pass

    class Typed(Own):
        __tablename__ = "typed"
        id: Mapped[int] = mapped_column(primary_key=True)
        value = mapped_column(type_)

    with pytest.raises(ScopeError, match=words):
        scope_of(Typed, Typed.value.is_(None))


#: A scope whose in_ values come from a set of strings, ordered by the process's hash seed.
KEYED = sa.and_(T.name.in_({"Bob", "bob", "ß", "é", "zed", "a"}), T.number == 7, T.flag)


def test_the_same_scope_gives_the_same_key_and_digest() -> None:
    built = [
        scope_of(Thing, sa.and_(T.number == 7, T.name.in_(["b", "a"]))),
        scope_of(Thing, sa.and_(T.name.in_(["a", "b", "a"]), T.number == 7)),
        scope_of(Thing, sa.and_(7 == T.number, sa.and_(sa.true(), T.name.in_(["b", "a"])))),
    ]
    assert {scope.key for scope in built} == {'name IN ("a", "b") AND number = 7'}
    assert len({scope.digest for scope in built}) == 1
    assert len(set(built)) == 1
    assert all(":" not in scope.digest and len(scope.digest) == 32 for scope in built)


def test_different_values_give_different_keys() -> None:
    scopes = [
        scope_of(Thing, T.number == 7),
        scope_of(Thing, T.number == 8),
        scope_of(Thing, T.number != 7),
        scope_of(Thing, T.name == "7"),
        scope_of(Thing, T.name == "Bob"),
        scope_of(Thing, T.name == "bob"),
        scope_of(Thing, T.name == "Bob "),
        scope_of(Thing, sa.or_(T.number == 7, T.flag)),
        scope_of(Thing, sa.and_(T.number == 7, T.flag)),
    ]
    assert len({scope.key for scope in scopes}) == len(scopes)
    assert len({scope.digest for scope in scopes}) == len(scopes)


@pytest.mark.parametrize("seed", ["1", "2"])
def test_a_key_is_the_same_in_another_process(seed: str) -> None:
    scope = scope_of(Thing, KEYED)
    program = (
        "from tests.test_scopes import KEYED, Thing\n"
        "from flask_sockpub.scopes import scope_of\n"
        "scope = scope_of(Thing, KEYED)\n"
        "print(scope.digest, scope.key)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    )
    assert result.stdout.strip() == f"{scope.digest} {scope.key}"


def test_a_scope_is_immutable_and_hashable() -> None:
    scope = scope_of(Thing, T.number == 7)
    with pytest.raises(AttributeError):
        scope.key = "number = 8"  # type: ignore[misc]
    assert {scope: 1}[scope_of(Thing, 7 == T.number)] == 1
    assert scope != scope_of(Other, Other.thing_id == 7)
    assert isinstance(scope, Scope)
    assert scope.columns == {"number"}


def test_selects_needs_every_column_the_scope_reads() -> None:
    scope = scope_of(Thing, sa.or_(T.number == 7, T.name == "Bob"))
    with pytest.raises(KeyError):
        scope.selects({"number": 1})


def test_list_criteria_compare_text_exactly_under_a_declared_collation(engine: Engine) -> None:
    """The list criteria share the scopes' exact text rule (``ExactText``)."""
    criteria = ListCriteria(Thing, ["id", "folded"], page_size=100)
    listing = criteria.parse({"where": json.dumps({"folded": {"in": ["Bob", "ss"]}})})
    with Session(engine) as session:
        found = {thing.id for thing in session.scalars(listing.apply(select(Thing)))}
    assert found == {row.id for row in things() if row.folded in ("Bob", "ss")}


@pytest.mark.parametrize(
    "expression", [T.name == "Bob", T.name.in_(["Bob", "e"])], ids=["==", "in_"]
)
def test_a_text_scope_can_use_an_index_on_its_column(engine: Engine, expression: Any) -> None:
    """MariaDB's ``BINARY name`` alone would keep the index out (a scan per list request)."""
    query = select(Thing.id).where(scope_of(Thing, expression).clause())
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = str(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all())
        elif engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = str(connection.exec_driver_sql(f"EXPLAIN {sql}").all())
        else:
            plan = str(
                connection.exec_driver_sql(f"EXPLAIN {sql}").mappings().one()["possible_keys"]
            )
    assert "ix_scope_thing_name" in plan, plan
