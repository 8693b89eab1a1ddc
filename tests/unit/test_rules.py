import re

import pytest

from lakepipe.rules import HeaderError, is_blank, line_numbers, match_header, parse_header_line
from lakepipe.spec import SpecError, parse_spec

SPEC = parse_spec({"name": "entities", "raw_prefix": "in/e/", "target": "glue", "database": "lake", "table": "entities"})


def test_header_matching_is_case_insensitive_trimmed_and_bom_safe():
    fields = parse_header_line('\ufeff Entity1 ,"ENTITY2",entity3,Entity4 , extra ,KEY,Value\r\n')
    layout = match_header(fields, SPEC, "s3://raw/a.csv")
    assert layout.positions == {"entity1": 0, "entity2": 1, "entity3": 2, "entity4": 3, "key": 5, "value": 6}
    assert layout.ignored == (" extra ",)
    assert layout.positional_names() == ["entity1", "entity2", "entity3", "entity4", "_ignored_4", "key", "value"]


def test_reordered_columns_map_by_name():
    layout = match_header(["value", "key", "entity4", "entity3", "entity2", "entity1"], SPEC, "f")
    assert layout.positions["value"] == 0 and layout.positions["entity1"] == 5


def test_missing_columns_name_the_file_and_columns():
    with pytest.raises(HeaderError) as e:
        match_header(["entity1", "entity2", "key"], SPEC, "s3://raw/incoming/entities/bad.csv")
    msg = str(e.value)
    assert "s3://raw/incoming/entities/bad.csv" in msg
    assert "['entity3', 'entity4', 'value']" in msg
    assert "nothing was loaded" in msg


def test_ambiguous_and_empty_headers_fail():
    with pytest.raises(HeaderError, match="more than once"):
        match_header(["entity1", "Entity1", "entity2", "entity3", "entity4", "key", "value"], SPEC, "f")
    with pytest.raises(HeaderError, match="no header"):
        match_header([], SPEC, "f")


def test_blank_values():
    assert is_blank(None) and is_blank("") and is_blank("  \t")
    assert not is_blank("0") and not is_blank(" a ")


def test_line_number_offsets_follow_block_order():
    # partition 1 holds the first block; lines are counted across blocks in file order
    assert line_numbers([(0, 128, 10), (1, 0, 5), (2, 256, 3)]) == {1: 0, 0: 5, 2: 15}


def test_extra_columns_are_reported_and_not_loaded_by_default():
    layout = match_header(["entity1", "entity2", "entity3", "entity4", "key", "value", "Unit", ""], SPEC, "f")
    assert layout.extra == ("Unit",)  # an empty header name is no column
    assert layout.kept == {} and layout.ignored == ("Unit", "")
    assert layout.positional_names()[6:] == ["_ignored_6", "_ignored_7"]


def test_keep_extra_columns_gives_safe_names_from_headers():
    spec = parse_spec({**SPEC.to_dict(), "keep_extra_columns": True})
    header = ["entity1", "entity2", "entity3", "entity4", "key", "value", " Unit ", "Amount (EUR)", "x`; DROP",
              "UNIT", "lakepipe_run_id", "Value2"]
    layout = match_header(header, spec, "f")
    assert layout.extra == tuple(header[6:])
    # names made by lakepipe.naming: lowercase [a-z0-9_], no clash with the dataset's or the metadata columns
    # (a metadata column's name gets a hash suffix, like a view column that meets a reserved name)
    assert layout.kept == {"unit": 6, "amount_eur": 7, "x_drop": 8, "lakepipe_run_id_5c515db3": 10, "value2": 11}
    assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", c) for c in layout.kept)
    assert layout.ignored == ("UNIT",)  # the same name twice: the first one is kept
    assert layout.positional_names()[:6] == list(spec.data_columns)


def test_rename_maps_known_aliases_to_dataset_columns():
    spec = parse_spec({**SPEC.to_dict(), "rename": {"Entity 1": "entity1", "VAL": "value"}})
    layout = match_header([" entity 1", "entity2", "entity3", "entity4", "key", "val"], spec, "f")
    assert layout.positions["entity1"] == 0 and layout.positions["value"] == 5 and layout.extra == ()
    with pytest.raises(HeaderError, match=r"missing required column\(s\) \['value'\]"):  # still required
        match_header(["entity1", "entity2", "entity3", "entity4", "key", "amount"], spec, "f")
    with pytest.raises(HeaderError, match="more than once"):  # an alias and the column itself
        match_header(["entity1", "entity2", "entity3", "entity4", "key", "val", "value"], spec, "f")


def test_rename_must_name_a_dataset_column():
    with pytest.raises(SpecError, match=r"rename: renames to columns the dataset does not have: \['amount'\]"):
        parse_spec({**SPEC.to_dict(), "rename": {"amt": "amount"}})
    with pytest.raises(SpecError, match="does not match"):
        parse_spec({**SPEC.to_dict(), "rename": {"amt": "Value"}})
    with pytest.raises(SpecError, match="expected boolean"):
        parse_spec({**SPEC.to_dict(), "keep_extra_columns": "yes"})
