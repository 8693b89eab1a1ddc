"""The spec's `format: json` rule without Spark: what it must map, the path syntax, defaults."""

import pytest

from lakepipe.spec import SpecError, parse_spec

BASE = {"name": "feed", "raw_prefix": "in/f/", "target": "glue", "database": "lake", "table": "feed"}
COLUMNS = {"entity1": "$.company", "key": "@.metric", "value": "@.amount"}


def test_csv_is_the_default_and_json_needs_its_rule():
    assert (parse_spec(BASE).format, parse_spec(BASE).json) == ("csv", None)
    with pytest.raises(SpecError, match="format json needs it"):
        parse_spec({**BASE, "format": "json"})
    with pytest.raises(SpecError, match="only for format json"):
        parse_spec({**BASE, "json": {"columns": COLUMNS}})


def test_a_json_rule_round_trips():
    rule = {"explode": "$.figures", "columns": COLUMNS}
    spec = parse_spec({**BASE, "format": "json", "json": rule})
    assert spec.json == rule and parse_spec(spec.to_dict()) == spec


@pytest.mark.parametrize("rule, message", [
    ({"columns": {"entity1": "$.a", "key": "$.k"}}, r"must map \['value'\]"),
    ({"columns": {**COLUMNS, "amount": "$.x"}}, r"not columns of the dataset: \['amount'\]"),
    ({"columns": COLUMNS}, "@ paths need explode"),
    ({"explode": "@.x", "columns": COLUMNS}, "a path in the record"),
    ({"leaves": "$.data", "columns": {"entity1": "$.a", "key": "$.k"}}, "leaves fills the key and value"),
    ({"explode": "$.figures", "columns": {**COLUMNS, "value": "$['a b']"}}, "does not match"),
    ({"explode": "$.figures", "columns": COLUMNS, "flatten": True}, "unknown property 'flatten'"),
])
def test_invalid_json_rules_are_refused(rule, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**BASE, "format": "json", "json": rule})


def test_leaves_fill_key_and_value():
    spec = parse_spec({**BASE, "format": "json", "json": {"leaves": "$.data", "columns": {"entity1": "$.id"}}})
    assert spec.json["leaves"] == "$.data"
