import re

import pytest

from lakepipe.naming import (
    MAX_COLUMN_NAME,
    MAX_VIEW_NAME,
    column_names,
    execution_name,
    short_hash,
    slugify,
    view_names,
)

SAFE = re.compile(r"^[a-z0-9_]+$")


def test_slugify_folds_accents_and_collapses():
    assert slugify("Café  Crème") == "cafe_creme"
    assert slugify("  --A/B--  ") == "a_b"
    assert slugify("東京") == ""


def test_view_names_plain_when_safe_and_unique():
    names = view_names(["abc", "Bank A", "café"], "entity_view_")
    assert names == {"abc": "entity_view_abc", "Bank A": "entity_view_bank_a", "café": "entity_view_cafe"}


def test_case_only_difference_keeps_plain_name_for_exact_value():
    names = view_names(["ABC", "abc"], "v_")
    assert names["abc"] == "v_abc"
    assert names["ABC"] == f"v_abc_{short_hash('ABC')}"


def test_collision_without_exact_member_hashes_all():
    names = view_names(["a b", "A-B"], "v_")
    assert names["a b"] == f"v_a_b_{short_hash('a b')}"
    assert names["A-B"] == f"v_a_b_{short_hash('A-B')}"


def test_names_independent_of_order_and_unique_and_bounded():
    hostile = ["x" * 500, "x" * 499 + "y", "O'Brien", 'a"b', "a`b", "select", "東京", "大阪", "", " ", "1st", "ABC", "abc"]
    a = view_names(hostile, "entity_view_")
    b = view_names(list(reversed(hostile)), "entity_view_")
    assert a == b
    assert len(set(a.values())) == len(hostile)
    for v, n in a.items():
        assert SAFE.match(n) and n.startswith("entity_view_") and len(n) <= MAX_VIEW_NAME, (v, n)
    # shortened names carry the hash
    assert a["x" * 500].endswith(short_hash("x" * 500))
    assert a["x" * 500] != a["x" * 499 + "y"]


def test_column_names_avoid_fixed_columns_case_insensitively():
    cols = column_names(["entity1", "Entity2", "key", "Key", "1abc", "_"], ["entity1", "entity2"])
    assert cols["entity1"] == f"entity1_{short_hash('entity1')}"
    assert cols["Entity2"] == f"entity2_{short_hash('Entity2')}"
    assert cols["key"] == "key" and cols["Key"] == f"key_{short_hash('Key')}"
    assert cols["1abc"] == "k_1abc"
    assert cols["_"] == short_hash("_")
    lowered = [c.lower() for c in cols.values()] + ["entity1", "entity2"]
    assert len(set(lowered)) == len(lowered)
    assert all(len(c) <= MAX_COLUMN_NAME for c in cols.values())


def test_deliberate_hash_clash_is_resolved():
    # A value that is literally another value's hashed name must not steal or share it.
    hashed = f"abc_{short_hash('ABC')}"
    names = view_names(["ABC", "abc", hashed], "")
    assert len(set(names.values())) == 3
    assert names[hashed] == hashed


def test_two_thousand_keys_get_unique_columns():
    keys = [f"Metric {i:04d}" for i in range(2000)] + [f"metric_{i:04d}" for i in range(2000)]
    cols = column_names(keys, ["seriesid", "aod", "rssdid", "submissionts"])
    assert len(set(cols.values())) == 4000


def test_execution_name_contract():
    n = execution_name("entities", "raw", "incoming/entities/a.csv", "v1")
    assert re.fullmatch(r"entities-[0-9a-f]{40}", n)
    assert n == execution_name("entities", "raw", "incoming/entities/a.csv", "v1")
    assert n != execution_name("entities", "raw", "incoming/entities/a.csv", "v2")
    assert len(execution_name("a" * 39, "b", "k", "v")) == 80
    with pytest.raises(ValueError, match="longer than the schema allows"):
        execution_name("a" * 40, "b", "k", "v")


def test_a_declared_value_owns_its_plain_view_name():
    """An analyst group declares `ACME`; the data also holds `acme`, which would otherwise keep the plain
    name (its slug is itself). The group is granted entity_view_acme, so that name must hold ACME's rows."""
    names = view_names(["ACME", "acme"], "entity_view_", declared=["ACME"])
    assert names["ACME"] == "entity_view_acme"
    assert names["acme"] == f"entity_view_acme_{short_hash('acme')}"
    # Order of the data or of the declarations does not matter.
    assert view_names(["acme", "ACME"], "entity_view_", declared=["ACME", "Globex"]) == names


def test_a_declared_value_not_yet_loaded_keeps_its_name_free():
    """Before ACME's first row, `acme` alone must not take the name the group's grant points at."""
    names = view_names(["acme", "Globex"], "entity_view_", declared=["ACME"])
    assert names == {"acme": f"entity_view_acme_{short_hash('acme')}", "Globex": "entity_view_globex"}


def test_without_declarations_names_do_not_change():
    values = ["ABC", "abc", "a b", "A-B", "Bank A"]
    assert view_names(values, "v_", declared=[]) == view_names(values, "v_")
    # A declared value that collides with nothing changes nothing either.
    assert view_names(values, "v_", declared=["Bank A"]) == view_names(values, "v_")
