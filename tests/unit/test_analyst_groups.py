"""Analyst groups (datasets/*.json `analyst_groups`): the spec rules, and the two things Terraform's
modules/catalog computes without Python: view names of declared split values and the row filter."""

from __future__ import annotations

import re
import string

import pytest
import sqlglot
from sqlglot import exp

from lakepipe.naming import view_names
from lakepipe.spec import RESERVED_COLUMNS, SpecError, parse_spec
from lakepipe.viewsql import build_view

BASE = {"name": "e", "raw_prefix": "in/e/", "target": "glue", "database": "lake", "table": "e"}
HOSTILE = ["ACME", "O'Brien & Co", "x') OR ('a'='a", "a''b", "Umbrella Corp", "--", "/* c */ d", "\\'"]


def terraform_slug(value: str) -> str:
    """modules/catalog: trim(replace(lower(v), "/[^a-z0-9]+/", "_"), "_")."""
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


def terraform_row_filter(column: str, values: list[str]) -> str:
    """modules/catalog: "<column> IN (<'v' with ' doubled>, ...)"."""
    return f"{column} IN ({', '.join(chr(39) + v.replace(chr(39), chr(39) * 2) + chr(39) for v in values)})"


@pytest.mark.parametrize("value", [*HOSTILE[:-3], "/* c */ d", string.printable.strip(), "Ab9_-x", "  lead", "trail  "])
def test_terraform_names_the_view_lakepipe_names(value):
    """For printable ASCII (the schema's split_values pattern) the HCL slug is lakepipe.naming's, so a declared
    value's view is view_prefix + slug whenever spec validation accepts it."""
    parse_spec({**BASE, "analyst_groups": [{"name": "g", "split_values": [value]}]})
    assert view_names([value], "entity_view_")[value] == "entity_view_" + terraform_slug(value)


def test_the_row_filter_is_an_in_list_of_exactly_the_values():
    """A value cannot close its literal: the expression parses to one IN over exactly the declared strings."""
    tree = sqlglot.parse_one(terraform_row_filter("entity1", HOSTILE), read="trino")
    assert isinstance(tree, exp.In) and tree.this.name == "entity1"
    assert [e.this for e in tree.expressions if e.is_string] == HOSTILE


@pytest.mark.parametrize("groups, message", [
    ([{"name": "a", "split_values": ["ACME", "acme"]}], "have no view name of their own"),
    ([{"name": "a", "split_values": ["!!"]}], "have no view name of their own"),
    ([{"name": "a", "split_values": ["\\'"]}], "have no view name of their own"),
    ([{"name": "a", "split_values": ["x" * 120]}], "have no view name of their own"),
    ([{"name": "a", "split_values": ["Zürich"]}], "does not match"),
    ([{"name": "a", "split_values": []}], "at least 1"),
    ([{"name": "a", "split_values": ["x"], "excluded_columns": ["salary"]}], "not columns of the table"),
    ([{"name": "a", "split_values": ["x"]}, {"name": "a", "split_values": ["y"]}], "group names must be unique"),
    ([{"name": "a", "split_values": ["x"], "principals": ["arn:aws:iam::123456789012:role/r"]}], "unknown property"),
])
def test_spec_refuses_groups_terraform_could_not_grant(groups, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**BASE, "analyst_groups": groups})


def test_groups_default_to_none_and_round_trip():
    assert parse_spec(BASE).analyst_groups == ()
    spec = parse_spec({**BASE, "analyst_groups": [{"name": "a", "split_values": ["ACME"],
                                                   "excluded_columns": ["lakepipe_run_id"]}]})
    assert parse_spec(spec.to_dict()) == spec
    assert spec.to_dict()["analyst_groups"] == [{"name": "a", "split_values": ["ACME"],
                                                 "excluded_columns": ["lakepipe_run_id"]}]
    with pytest.raises(SpecError, match="target glue"):
        parse_spec({**BASE, "target": "s3tables", "analyst_groups": [{"name": "a", "split_values": ["x"]}]})


def columns_a_view_reads(spec) -> set[str]:
    """Every base-table column the view job's SQL references (projected, pivoted or filtered on)."""
    view = build_view(spec, "ACME", ["k1", "k2"], "entity_view_acme")
    return {c.name for c in view.query.find_all(exp.Column)}


def test_a_group_cannot_exclude_a_column_its_views_read():
    """Views are read with the definer's rights: a column they read (split and id columns as columns, the key
    column's values as column names, the value column as cells) would reach the group through its view.
    Each such column is refused by name, with the dataset and the group; the ingestion metadata (which no
    view reads) can be excluded."""
    spec = parse_spec(BASE)
    read = columns_a_view_reads(spec)
    assert read == {spec.split_column, *spec.id_columns, spec.key_column, spec.value_column}
    for column in sorted(read):
        group = {"name": "acme_only", "split_values": ["ACME"], "excluded_columns": ["lakepipe_run_id", column]}
        with pytest.raises(SpecError) as refused:
            parse_spec({**BASE, "analyst_groups": [group]})
        message = str(refused.value)
        assert "dataset 'e' group 'acme_only'" in message and f"[{column!r}]" in message, message
        assert "lakepipe_run_id" not in message.split("excludes", 1)[1].split("]", 1)[0], message
    assert read.isdisjoint(RESERVED_COLUMNS)
    allowed = parse_spec({**BASE, "analyst_groups": [{"name": "a", "split_values": ["ACME"],
                                                      "excluded_columns": list(RESERVED_COLUMNS)}]})
    assert allowed.analyst_groups[0]["excluded_columns"] == list(RESERVED_COLUMNS)
