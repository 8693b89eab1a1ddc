import pytest

from lakepipe.rules import HeaderError, is_blank, line_numbers, match_header, parse_header_line
from lakepipe.spec import parse_spec

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
