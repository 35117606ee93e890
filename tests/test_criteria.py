"""List parameters (flask_sockpub.blueprints.criteria): every operator on SQLite and PostgreSQL.

Each result over the seed rows (NULLs, mixed case, non-ASCII letters) must equal
the one computed in plain Python by tests/criteria_data.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest
from flask import Flask
from sqlalchemy import Engine, String, create_engine, literal, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from flask_sockpub.blueprints.criteria import ListCriteria, ListQuery
from flask_sockpub.blueprints.textmatch import UnicodeLower, register_sqlite_lower
from flask_sockpub.wire.socket_request import query_string
from tests.criteria_data import (
    EXPOSED,
    ROWS,
    Base,
    Kind,
    Person,
    U,
    folded,
    has,
    ids_where,
    like,
    people,
    sorted_ids,
)
from tests.databases import database_of_kind

ALL = [row["id"] for row in ROWS]


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The seeded ``person`` table, on a fresh database of each kind."""
    with database_of_kind(request.param, "criteria", tmp_path_factory.mktemp("criteria")) as url:
        engine = create_engine(url)
        register_sqlite_lower(engine)
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(people())
            session.commit()
        yield engine
        engine.dispose()


CRITERIA = ListCriteria(Person, EXPOSED, page_size=100)


def listed(
    engine: Engine, params: Any, base: Any = None, criteria: ListCriteria = CRITERIA
) -> list[int]:
    """Ids of the rows a list request with ``params`` returns, in order."""
    query = criteria.parse(params).apply(base if base is not None else select(Person))
    with Session(engine) as session:
        return [person.id for person in session.scalars(query)]


def total(engine: Engine, params: Any, base: Any = None) -> int:
    query = CRITERIA.parse(params)
    with Session(engine) as session:
        return int(session.scalar(query.count(base if base is not None else select(Person))) or 0)


def where(criteria: dict[str, Any], **params: str) -> dict[str, str]:
    return {"where": orjson.dumps(criteria).decode(), **params}


# (params, reference predicate over a seed row)
CASES: list[tuple[dict[str, Any], Any]] = [
    # equality, values coerced to each column's type; text equality is exact
    (where({"name": "Zoë"}), lambda r: r["name"] == "Zoë"),
    (where({"age": 30}), lambda r: r["age"] == 30),
    (where({"age": "30"}), lambda r: r["age"] == 30),
    (where({"height": 1.75}), lambda r: r["height"] == 1.75),
    (where({"balance": "10.5"}), has("balance", lambda v: v == 10.5)),
    (where({"balance": 0}), has("balance", lambda v: v == 0)),
    (where({"active": True}), lambda r: r["active"] is True),
    (where({"active": "false"}), lambda r: r["active"] is False),
    (where({"born": "1990-05-01"}), has("born", lambda v: v.isoformat() == "1990-05-01")),
    (
        where({"seen": "2024-01-02T03:04:05Z"}),
        has("seen", lambda v: v == datetime(2024, 1, 2, 3, 4, 5)),
    ),
    (
        where({"seen": "2024-01-02T04:04:05+01:00"}),
        has("seen", lambda v: v == datetime(2024, 1, 2, 3, 4, 5)),
    ),
    (where({"alarm": "07:30"}), has("alarm", lambda v: v.isoformat() == "07:30:00")),
    (where({"token": str(U[4])}), lambda r: r["token"] == U[4]),
    (where({"token": U[4].hex.upper()}), lambda r: r["token"] == U[4]),
    (where({"kind": "cat"}), has("kind", lambda v: v.name == "cat")),
    (where({"name": ""}), lambda r: r["name"] == ""),
    # bare attribute parameters: equality, repeated keys are "in"
    ({"name": "Randy"}, lambda r: r["name"] == "Randy"),
    ({"age": "30", "active": "1"}, lambda r: r["age"] == 30 and r["active"] is True),
    (MultiDict([("name", "Zoë"), ("name", "ÅSA")]), lambda r: r["name"] in ("Zoë", "ÅSA")),
    ({"kind": ["dog", "fish"]}, has("kind", lambda v: v.name in ("dog", "fish"))),
    (where({"age": {">": 40}}, team="red"), lambda r: (r["age"] or 0) > 40 and r["team"] == "red"),
    # null checks
    (where({"name": None}), lambda r: r["name"] is None),
    (where({"age": None}), lambda r: r["age"] is None),
    (where({"name": {"!=": None}}), lambda r: r["name"] is not None),
    (where({"kind": {"not": None}}), lambda r: r["kind"] is not None),
    # comparisons leave NULLs out
    (where({"age": {"<": 30}}), has("age", lambda v: v < 30)),
    (where({"age": {"<=": 30}}), has("age", lambda v: v <= 30)),
    (where({"age": {">": 30}}), has("age", lambda v: v > 30)),
    (where({"age": {">=": 30}}), has("age", lambda v: v >= 30)),
    (where({"age": {"lessThan": "30"}}), has("age", lambda v: v < 30)),
    (where({"age": {"lessThanOrEqual": 30}}), has("age", lambda v: v <= 30)),
    (where({"age": {"greaterThan": 30}}), has("age", lambda v: v > 30)),
    (where({"age": {"greaterThanOrEqual": 30}}), has("age", lambda v: v >= 30)),
    (where({"age": {">": 20, "<": 40}}), has("age", lambda v: 20 < v < 40)),
    (where({"height": {"<": 1.7}}), has("height", lambda v: v < 1.7)),
    (where({"balance": {">=": "10.50"}}), has("balance", lambda v: v >= 10.5)),
    (where({"balance": {"<": 0}}), has("balance", lambda v: v < 0)),
    (where({"born": {">": "2000-01-01"}}), has("born", lambda v: v.isoformat() > "2000-01-01")),
    (
        where({"seen": {"<=": "2024-01-02T03:04:05"}}),
        has("seen", lambda v: v <= datetime(2024, 1, 2, 3, 4, 5)),
    ),
    (where({"alarm": {">=": "12:00:00"}}), has("alarm", lambda v: v.isoformat() >= "12:00:00")),
    (where({"name": {"<": "Z"}}), has("name", lambda v: v < "Z")),
    (where({"name": {">=": "z"}}), has("name", lambda v: v >= "z")),
    # != keeps NULLs (a null field is not equal to a value)
    (where({"name": {"!=": "Zoë"}}), lambda r: r["name"] != "Zoë"),
    (where({"age": {"!=": 30}}), lambda r: r["age"] != 30),
    (where({"active": {"not": True}}), lambda r: r["active"] is not True),
    (where({"kind": {"!": "cat"}}), lambda r: r["kind"] is None or r["kind"].name != "cat"),
    # in / nin / arrays
    (where({"age": {"in": [30, 41]}}), lambda r: r["age"] in (30, 41)),
    (where({"name": ["Zoë", "ÅSA"]}), lambda r: r["name"] in ("Zoë", "ÅSA")),
    (where({"age": [64, None]}), lambda r: r["age"] in (64, None)),
    (where({"token": {"in": [str(U[0]), str(U[13])]}}), lambda r: r["token"] in (U[0], U[13])),
    (where({"age": {"nin": [30, 41]}}), lambda r: r["age"] not in (30, 41)),
    (where({"age": {"nin": [30, None]}}), lambda r: r["age"] not in (30, None)),
    (where({"age": {"not": [30, 41]}}), lambda r: r["age"] not in (30, 41)),
    (where({"born": {"nin": ["1990-05-01"]}}), lambda r: r["born"] != date(1990, 5, 1)),
    (where({"age": {"in": []}}), lambda r: False),
    (where({"age": {"nin": []}}), lambda r: True),
    # case-insensitive text matching, the same on both databases, non-ASCII included
    (where({"name": {"contains": "zo"}}), folded("name", lambda v: "zo" in v)),
    (where({"name": {"contains": "ZOË"}}), folded("name", lambda v: "zoë" in v)),
    (where({"name": {"contains": "åsa"}}), folded("name", lambda v: "åsa" in v)),
    (where({"name": {"contains": "STRAẞE"}}), folded("name", lambda v: "straße" in v)),
    (where({"name": {"contains": "οδος"}}), folded("name", lambda v: "οδος" in v)),
    (where({"name": {"contains": "STRASSE"}}), folded("name", lambda v: "strasse" in v)),
    (where({"name": {"contains": "ΟΔΟΣ"}}), folded("name", lambda v: "ΟΔΟΣ".lower() in v)),
    (where({"name": {"contains": ""}}), lambda r: r["name"] is not None),
    (where({"name": {"startsWith": "i"}}), folded("name", lambda v: v.startswith("i"))),
    (where({"name": {"startsWith": "İST"}}), folded("name", lambda v: v.startswith("İST".lower()))),
    (where({"name": {"startsWith": "ist"}}), folded("name", lambda v: v.startswith("ist"))),
    (where({"name": {"endsWith": "BUL"}}), folded("name", lambda v: v.endswith("bul"))),
    (where({"name": {"endsWith": "E"}}), folded("name", lambda v: v.endswith("e"))),
    # %, _ and \ are literal in contains/startsWith/endsWith
    (where({"name": {"contains": "%"}}), folded("name", lambda v: "%" in v)),
    (where({"name": {"contains": "_"}}), folded("name", lambda v: "_" in v)),
    (where({"name": {"startsWith": "100%_"}}), folded("name", lambda v: v.startswith("100%_"))),
    (where({"name": {"contains": "\\"}}), folded("name", lambda v: "\\" in v)),
    (where({"name": {"endsWith": "%"}}), folded("name", lambda v: v.endswith("%"))),
    # like: % and _ are wildcards, \ escapes them
    (where({"name": {"like": "z%"}}), folded("name", like("z%"))),
    (where({"name": {"like": "_oë"}}), folded("name", like("_oë"))),
    (where({"name": {"like": "%S_"}}), folded("name", like("%s_"))),
    (where({"name": {"like": "ZOË"}}), folded("name", like("zoë"))),
    (where({"name": {"like": "100\\%\\_%"}}), folded("name", like("100\\%\\_%"))),
    (where({"name": {"like": "%\\\\%"}}), folded("name", like("%\\\\%"))),
    (where({"name": {"like": "_stanbul"}}), folded("name", like("_stanbul"))),
    (where({"name": {"like": "%"}}), lambda r: r["name"] is not None),
    # or / and, nested
    (
        where({"or": [{"name": "Zoë"}, {"age": {">": 60}}]}),
        lambda r: r["name"] == "Zoë" or (r["age"] or 0) > 60,
    ),
    (where({"and": [{"age": {">": 20}}, {"age": {"<": 40}}]}), has("age", lambda v: 20 < v < 40)),
    (
        where({"or": [{"and": [{"team": "red"}, {"name": {"contains": "a"}}]}, {"kind": None}]}),
        lambda r: (r["team"] == "red" and "a" in (r["name"] or "").lower()) or r["kind"] is None,
    ),
    (
        where({"team": "blue", "or": [{"age": {"<": 20}}, {"active": False}]}),
        lambda r: r["team"] == "blue" and (r["age"] in range(20) or r["active"] is False),
    ),
    (
        where({"or": [{"age": 30}], "name": {"startsWith": "z"}}),
        lambda r: r["age"] == 30 and (r["name"] or "").lower().startswith("z"),
    ),
    (where({}), lambda r: True),
]


@pytest.mark.parametrize(("params", "predicate"), CASES, ids=[str(dict(p)) for p, _ in CASES])
def test_criteria_select_the_rows_the_python_reference_selects(
    engine: Engine, params: Any, predicate: Any
) -> None:
    assert listed(engine, params) == ids_where(predicate)


def test_the_reference_cases_discriminate() -> None:
    """Every case but the deliberate empty/full ones selects some rows and leaves some out."""
    trivial = [params for params, predicate in CASES if ids_where(predicate) in ([], ALL)]
    assert [dict(p) for p in trivial] == [
        where({"age": {"in": []}}),
        where({"age": {"nin": []}}),
        where({"name": {"contains": "STRASSE"}}),  # lowercasing is not case folding: ß is not ss
        where({}),
    ]


SORTS: list[tuple[dict[str, str], list[tuple[str, bool]]]] = [
    ({"sort": "name"}, [("name", False)]),
    ({"sort": "name DESC"}, [("name", True)]),
    ({"sort": "name desc"}, [("name", True)]),
    ({"sort": "age asc, name desc"}, [("age", False), ("name", True)]),
    ({"sort": "age -1"}, [("age", True)]),
    ({"sort": '{"age": -1, "name": 1}'}, [("age", True), ("name", False)]),
    ({"sort": '{"born": "DESC"}'}, [("born", True)]),
    ({"sort": '[{"balance": 1}, {"height": -1}]'}, [("balance", False), ("height", True)]),
    ({"sort": '["seen DESC", "name"]'}, [("seen", True), ("name", False)]),
    ({"sort": "alarm"}, [("alarm", False)]),
    ({"sort": "id DESC"}, [("id", True)]),
    ({"sort": "active"}, [("active", False)]),
    ({"sort": "token DESC"}, [("token", True)]),
]


@pytest.mark.parametrize(("params", "keys"), SORTS, ids=[p["sort"] for p, _ in SORTS])
def test_sort_orders_like_the_reference_with_nulls_first_ascending(
    engine: Engine, params: dict[str, str], keys: list[tuple[str, bool]]
) -> None:
    assert listed(engine, params) == sorted_ids(*keys)


def test_repeated_sort_keys_sort_in_turn(engine: Engine) -> None:
    params = MultiDict([("sort", "age DESC"), ("sort", "name")])
    assert listed(engine, params) == sorted_ids(("age", True), ("name", False))


@pytest.mark.parametrize(
    ("params", "window"),
    [
        ({"sort": "age", "limit": "3"}, slice(0, 3)),
        ({"sort": "age", "skip": "4"}, slice(4, None)),
        ({"sort": "age", "skip": "2", "limit": "5"}, slice(2, 7)),
        ({"sort": "age", "skip": "14", "limit": "5"}, slice(14, 19)),
        ({"sort": "age", "skip": "100"}, slice(100, None)),
        ({"sort": "age", "limit": "0"}, slice(0, 0)),
    ],
)
def test_skip_and_limit_page_through_the_sorted_rows(
    engine: Engine, params: dict[str, str], window: slice
) -> None:
    assert listed(engine, params) == sorted_ids(("age", False))[window]


def test_pages_of_tied_rows_never_overlap_nor_skip_rows(engine: Engine) -> None:
    # Many rows share an age (30) and a team: the primary key breaks the ties.
    for sort in ("age", "team DESC", '{"active": 1}'):
        pages = [
            listed(engine, {"sort": sort, "skip": str(skip), "limit": "4"})
            for skip in range(0, len(ROWS), 4)
        ]
        assert sum(pages, []) == listed(engine, {"sort": sort})
        assert sorted(sum(pages, [])) == ALL


def test_default_page_size_and_the_limit_cap(engine: Engine) -> None:
    small = ListCriteria(Person, EXPOSED, page_size=4, max_limit=6)
    assert listed(engine, {}, criteria=small) == ALL[:4]
    assert listed(engine, {"limit": "5"}, criteria=small) == ALL[:5]
    assert listed(engine, {"limit": "1000"}, criteria=small) == ALL[:6]


def test_count_ignores_paging_and_sort(engine: Engine) -> None:
    params = where({"age": {">=": 30}}, sort="name DESC", skip="2", limit="3")
    assert total(engine, params) == len(ids_where(has("age", lambda v: v >= 30)))
    assert len(listed(engine, params)) == 3


RED = select(Person).where(Person.team == "red")
RED_IDS = ids_where(lambda r: r["team"] == "red")
BLUE_IDS = ids_where(lambda r: r["team"] == "blue")


@pytest.mark.parametrize(
    "params",
    [
        where({"or": [{"team": "blue"}, {"id": {"in": BLUE_IDS}}]}),
        where({"or": [{"id": {">": 0}}, {"team": {"!=": "red"}}]}),
        where({"or": [{"and": [{"team": "blue"}]}, {"name": None}]}),
        where({"id": BLUE_IDS[0]}),
        {"team": "blue"},
        {"id": [str(i) for i in BLUE_IDS]},
        where({"team": {"nin": ["red"]}}),
        where({"name": {"like": "%"}}, sort="name DESC", skip="0", limit="100"),
    ],
)
def test_criteria_cannot_reach_rows_outside_the_base_query(engine: Engine, params: Any) -> None:
    found = listed(engine, params, base=RED)
    assert set(found) <= set(RED_IDS)
    assert total(engine, params, base=RED) == len(found)
    assert set(listed(engine, params)) - set(RED_IDS), "the criteria alone do reach other rows"


def test_sort_and_skip_probing_sees_only_the_base_query(engine: Engine) -> None:
    for sort in ("name", "age DESC", "balance", "id DESC"):
        pages = [
            listed(engine, {"sort": sort, "skip": str(skip), "limit": "1"}, base=RED)
            for skip in range(len(ROWS))
        ]
        assert sorted(sum(pages, [])) == RED_IDS


def test_the_base_query_order_is_replaced_and_its_where_kept(engine: Engine) -> None:
    base = select(Person).where(Person.team == "red").order_by(Person.name.desc())
    red_rows = [row for row in ROWS if row["team"] == "red"]
    assert listed(engine, {"sort": "age"}, base=base) == sorted_ids(("age", False), rows=red_rows)


def test_a_base_query_with_limit_or_offset_is_refused() -> None:
    query = CRITERIA.parse({})
    for base in (select(Person).limit(5), select(Person).offset(1)):
        with pytest.raises(ValueError, match="where"):
            query.apply(base)
        with pytest.raises(ValueError, match="where"):
            query.count(base)


def test_hostile_text_is_a_bound_value_never_sql(engine: Engine) -> None:
    hostile = "x'); DROP TABLE person; --"
    query = CRITERIA.parse(where({"name": {"contains": hostile}, "team": hostile}))
    assert hostile not in str(query.apply(select(Person)))
    assert listed(engine, where({"name": {"contains": hostile}})) == []
    assert total(engine, {}) == len(ROWS)


def test_socket_get_data_parses_as_the_same_query(engine: Engine) -> None:
    """A socket GET's ``data`` reaches the view as a query string (SPEC section 2)."""
    data = {
        "where": {"age": {">": 20}},
        "sort": ["name DESC", "id"],
        "active": True,
        "kind": ["cat", "dog"],
        "_": 17,
    }
    params = MultiDict(parse_qsl(query_string(data)))
    rows = [
        row
        for row in ROWS
        if (row["age"] or 0) > 20 and row["active"] is True and row["kind"] in (Kind.cat, Kind.dog)
    ]
    assert listed(engine, params) == sorted_ids(("name", True), rows=rows)


def test_request_args_from_flask_are_accepted() -> None:
    app = Flask(__name__)
    with app.test_request_context("/?name=Zo%C3%AB&name=Randy&limit=2&_=123"):
        from flask import request

        query = CRITERIA.parse(request.args)
    assert isinstance(query, ListQuery)
    assert query.limit == 2
    assert query.where is not None and "IN" in str(query.where)


def test_the_database_lowercases_every_code_point_as_python_does(engine: Engine) -> None:
    """The measured basis of identical case-insensitive matching on both databases."""
    code_points = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    differing = []
    with engine.connect() as connection:
        for start in range(0, len(code_points), 100_000):
            chunk = code_points[start : start + 100_000]
            # Spaces keep each character out of its neighbours' context (final sigma).
            lowered = connection.scalar(select(UnicodeLower(literal(" ".join(chunk), String()))))
            if lowered != " ".join(chunk).lower():
                differing += [c for c, low in zip(chunk, lowered.split(" ")) if low != c.lower()]
    assert differing == []
    assert not [c for c in code_points if set(c.lower()) & {"%", "_", "\\"} and c not in "%_\\"]
