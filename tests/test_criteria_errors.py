"""List parameters a client gets wrong: each is a CriteriaError naming what was wrong."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from werkzeug.datastructures import MultiDict

from flask_sockpub.blueprints.criteria import CriteriaError, ListCriteria
from tests.criteria_data import EXPOSED, Person

CRITERIA = ListCriteria(Person, EXPOSED)
OPERATORS = "<, <=, >, >=, !=, in, nin, contains, startsWith, endsWith, like"
LONE_BACKSLASH = "in a like pattern a backslash must be followed by %, _ or another backslash"
WHOLE_NUMBER = "expected a whole number from 0 to 9007199254740991"
SORT_TERM = "expected 'field', 'field ASC' or 'field DESC'"


def where(criteria: Any, **params: str) -> dict[str, str]:
    return {"where": orjson.dumps(criteria).decode(), **params}


def fields_of(params: Any, criteria: ListCriteria = CRITERIA) -> dict[str, str]:
    with pytest.raises(CriteriaError) as caught:
        criteria.parse(params)
    error = caught.value
    assert isinstance(error, ValueError)
    for name, reason in error.fields.items():
        assert f"{name}: {reason}" in error.message
    return error.fields


def test_unknown_parameters_are_named_together_with_hints() -> None:
    fields = fields_of({"offset": "10", "order": "name", "colour": "red", "name": "Zoë"})
    assert fields == {
        "offset": "unknown parameter (use skip)",
        "order": "unknown parameter (use sort)",
        "colour": "unknown parameter",
    }


def test_the_cache_buster_is_ignored_even_repeated() -> None:
    assert CRITERIA.parse(MultiDict([("_", "1"), ("_", "2")])).where is None


def test_a_hidden_column_is_indistinguishable_from_a_missing_one() -> None:
    assert fields_of({"secret": "s1"}) == {"secret": "unknown parameter"}
    assert fields_of({"nothing": "s1"}) == {"nothing": "unknown parameter"}
    assert fields_of(where({"secret": "s1"})) == {"secret": "no such field can be filtered"}
    assert fields_of(where({"nothing": "s1"})) == {"nothing": "no such field can be filtered"}
    assert fields_of({"sort": "secret"}) == {"secret": "no such field can be sorted"}
    hidden_in_or = where({"or": [{"secret": {"contains": "s"}}]})
    assert fields_of(hidden_in_or) == {"secret": "no such field can be filtered"}


def test_a_column_of_a_type_that_cannot_be_filtered_says_so() -> None:
    assert fields_of(where({"extra": "x"})) == {"extra": "this field cannot be filtered"}
    assert fields_of({"sort": "extra"}) == {"extra": "this field cannot be sorted"}


@pytest.mark.parametrize(
    ("criteria", "field", "reason"),
    [
        ({"age": "thirty"}, "age", "expected an integer, got 'thirty'"),
        ({"age": 1.5}, "age", "expected an integer, got 1.5"),
        ({"age": True}, "age", "expected an integer, got True"),
        ({"age": 2**63}, "age", "expected an integer, got 9223372036854775808"),
        ({"age": "9223372036854775808"}, "age", "expected an integer, got '9223372036854775808'"),
        ({"height": "tall"}, "height", "expected a number, got 'tall'"),
        ({"height": "nan"}, "height", "expected a number, got 'nan'"),
        ({"balance": "1e"}, "balance", "expected a decimal number, got '1e'"),
        ({"active": "yes"}, "active", "expected a boolean (true, false, 1 or 0), got 'yes'"),
        ({"born": "yesterday"}, "born", "expected an ISO 8601 date (2024-01-31), got 'yesterday'"),
        (
            {"seen": "2024-13-01T00:00:00"},
            "seen",
            "expected an ISO 8601 date and time (2024-01-31T12:00:00Z), got '2024-13-01T00:00:00'",
        ),
        ({"alarm": "25:00"}, "alarm", "expected an ISO 8601 time (12:00:00), got '25:00'"),
        ({"token": "not-a-uuid"}, "token", "expected a UUID, got 'not-a-uuid'"),
        ({"kind": "bird"}, "kind", "expected one of 'cat', 'dog', 'fish', got 'bird'"),
        ({"name": 5}, "name", "expected a string, got 5"),
        ({"name": {"in": ["a", 5]}}, "name", "expected a string, got 5"),
        ({"age": {"foo": 1}}, "age", f"unknown operator 'foo'; expected one of {OPERATORS}"),
        ({"age": {"=": 1}}, "age", f"unknown operator '='; expected one of {OPERATORS}"),
        ({"age": {}}, "age", "an empty object is not a condition"),
        ({"age": {"contains": "3"}}, "age", "contains applies to text fields only"),
        ({"kind": {"like": "c%"}}, "kind", "like applies to text fields only"),
        ({"name": {"startsWith": 5}}, "name", "startsWith needs a string, got 5"),
        ({"name": {"like": "a\\b"}}, "name", LONE_BACKSLASH),
        ({"name": {"like": "ab\\"}}, "name", LONE_BACKSLASH),
        ({"age": {"<": None}}, "age", "< cannot compare with null"),
        ({"active": {">": True}}, "active", "> does not apply to boolean fields"),
        ({"kind": {"<=": "cat"}}, "kind", "<= does not apply to enum fields"),
        ({"token": {">": str(uuid.UUID(int=0))}}, "token", "> does not apply to uuid fields"),
        ({"age": {"in": 3}}, "age", "in needs an array, got 3"),
        ({"age": {"nin": "3"}}, "age", "nin needs an array, got '3'"),
        ({"or": {"age": 3}}, "where", "or needs a non-empty array of conditions"),
        ({"and": []}, "where", "and needs a non-empty array of conditions"),
        ({"or": [3]}, "where", "expected an object of conditions, got 3"),
        ([{"age": 3}], "where", "expected an object of conditions, got [{'age': 3}]"),
    ],
)
def test_broken_where_names_the_field_and_what_was_expected(
    criteria: Any, field: str, reason: str
) -> None:
    assert fields_of(where(criteria)) == {field: reason}


def test_integers_beyond_64_bits_are_refused_before_the_database() -> None:
    huge = 2**64 - 1  # JSON that orjson still reads as an integer
    assert fields_of({"where": f'{{"age": {huge}}}'}) == {"age": f"expected an integer, got {huge}"}
    assert fields_of({"where": '{"age": {"<": 1e300}}'}) == {
        "age": "expected an integer, got 1e+300"
    }


def test_where_that_is_not_json_is_refused() -> None:
    fields = fields_of({"where": "{name: 'Zoë'}"})
    assert list(fields) == ["where"] and fields["where"].startswith("not valid JSON")


@pytest.mark.parametrize("name", ["where", "limit", "skip"])
def test_a_parameter_given_twice_is_refused(name: str) -> None:
    twice = MultiDict([(name, "{}" if name == "where" else "1")] * 2)
    assert fields_of(twice) == {name: "given more than once"}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"limit": "-1"}, f"{WHOLE_NUMBER}, got '-1'"),
        ({"limit": "ten"}, f"{WHOLE_NUMBER}, got 'ten'"),
        ({"limit": "1.5"}, f"{WHOLE_NUMBER}, got '1.5'"),
        ({"skip": ""}, f"{WHOLE_NUMBER}, got ''"),
        ({"skip": "9" * 16}, f"{WHOLE_NUMBER}, got '9999999999999999'"),
        ({"skip": "9" * 5000}, None),
    ],
)
def test_limit_and_skip_must_be_whole_numbers(params: dict[str, str], reason: str | None) -> None:
    fields = fields_of(params)
    assert list(fields) == list(params)
    if reason:
        assert fields == {next(iter(params)): reason}


@pytest.mark.parametrize(
    ("sort", "fields"),
    [
        ("name up", {"sort": "direction 'up' for name: expected ASC, DESC, 1 or -1"}),
        ('{"name": 2}', {"sort": "direction 2 for name: expected ASC, DESC, 1 or -1"}),
        ('{"name": true}', {"sort": "direction True for name: expected ASC, DESC, 1 or -1"}),
        ("name, name DESC", {"sort": "name is sorted on twice"}),
        ("name DESC extra", {"sort": f"{SORT_TERM}, got 'name DESC extra'"}),
        ("name,", {"sort": f"{SORT_TERM}, got ''"}),
        ("", {"sort": f"{SORT_TERM}, got ''"}),
        ("[3]", {"sort": "expected {\"field\": 1 or -1} or 'field DESC', got 3"}),
        ('{"name": -1', {"sort": None}),
        ("colour", {"colour": "no such field can be sorted"}),
    ],
)
def test_broken_sort_is_refused(sort: str, fields: dict[str, str | None]) -> None:
    found = fields_of({"sort": sort})
    assert list(found) == list(fields)
    for name, reason in fields.items():
        if reason is not None:
            assert found[name] == reason


def test_errors_in_several_parameters_are_reported_together() -> None:
    fields = fields_of({"where": '{"age": "x"}', "sort": "name up", "limit": "x", "offset": "1"})
    assert set(fields) == {"age", "sort", "limit", "offset"}


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    criteria: dict[str, Any] = {"age": 1}
    for _ in range(8):
        criteria = {"or": [criteria]}
    CRITERIA.parse(where(criteria))
    assert fields_of(where({"or": [criteria]})) == {"where": "or/and nested deeper than 8 levels"}


def test_json_nested_beyond_any_reason_is_a_400_not_a_crash() -> None:
    fields = fields_of({"where": "[" * 100_000 + "]" * 100_000})
    assert fields["where"].startswith("not valid JSON")
    fields = fields_of({"where": '{"or":' * 5_000 + "{}" + "}" * 5_000})
    assert list(fields) == ["where"]


def test_too_many_conditions_are_refused() -> None:
    CRITERIA.parse(where({"age": {">": 1, "<": 100}, "or": [{"age": n} for n in range(98)]}))
    too_many = {"age": "too many conditions in one request"}
    assert fields_of(where({"age": {">": 1}, "or": [{"age": n} for n in range(100)]})) == too_many
    bare_and_where = [("age", "1"), ("name", "x"), *where({"or": [{"age": 1}] * 99}).items()]
    assert fields_of(MultiDict(bare_and_where)) == too_many


def test_empty_objects_inside_or_and_are_refused() -> None:
    assert fields_of(where({"or": [{}] * 10_000})) == {
        "where": "an empty object is not a condition"
    }
    assert fields_of(where({"and": [{"age": 1}, {}]})) == {
        "where": "an empty object is not a condition"
    }


def test_too_many_values_are_refused() -> None:
    CRITERIA.parse(where({"age": {"in": list(range(999))}}))
    too_many = {"age": "too many values in one request"}
    assert fields_of(where({"age": {"nin": list(range(1001))}})) == too_many
    assert fields_of(MultiDict([("age", str(n)) for n in range(1001)])) == too_many


def test_the_limits_are_options() -> None:
    strict = ListCriteria(Person, EXPOSED, max_depth=1, max_conditions=3, max_values=4)
    nested = where({"or": [{"or": [{"age": 1}]}]})
    assert fields_of(nested, strict) == {"where": "or/and nested deeper than 1 levels"}
    five_values = where({"age": {"in": [1, 2, 3, 4, 5]}})
    assert fields_of(five_values, strict) == {"age": "too many values in one request"}
    four_conditions = where({"age": 1, "name": "a", "team": "b", "height": 1})
    assert fields_of(four_conditions, strict) == {"height": "too many conditions in one request"}


def test_limit_defaults_to_the_page_size_and_is_capped() -> None:
    assert CRITERIA.parse({}).limit == 30
    assert CRITERIA.parse({"limit": "1000"}).limit == 1000
    assert CRITERIA.parse({"limit": "100000"}).limit == 1000
    assert CRITERIA.parse({"limit": "0"}).limit == 0
    custom = ListCriteria(Person, EXPOSED, page_size=10, max_limit=50)
    assert custom.parse({}).limit == 10
    assert custom.parse({"limit": "51"}).limit == 50
    assert custom.parse({"skip": "7"}).offset == 7


def test_plain_mappings_with_lists_read_like_multidicts() -> None:
    plain = CRITERIA.parse({"name": ["Zoë", "ÅSA"], "sort": ["age DESC", "name"]})
    multi = CRITERIA.parse(
        MultiDict([("name", "Zoë"), ("name", "ÅSA"), ("sort", "age DESC"), ("sort", "name")])
    )
    assert str(plain.where) == str(multi.where)
    assert [str(o) for o in plain.order_by] == [str(o) for o in multi.order_by]


def test_misconfiguration_is_a_value_error_at_construction() -> None:
    with pytest.raises(ValueError, match="Person has no column attributes nope"):
        ListCriteria(Person, {"name", "nope"})
    with pytest.raises(ValueError, match="page_size"):
        ListCriteria(Person, page_size=2000)
    with pytest.raises(ValueError, match="page_size"):
        ListCriteria(Person, page_size=0)


def test_all_columns_are_exposed_by_default() -> None:
    assert CRITERIA.parse({"id": "1"}).where is not None
    assert ListCriteria(Person).parse({"secret": "s1"}).where is not None
