import json
from pathlib import Path

import jsonschema
import pytest

from lakepipe.spec import (
    SpecError,
    apply_defaults,
    load_schema,
    load_spec_file,
    load_specs_list,
    parse_spec,
    schema_errors,
)

ROOT = Path(__file__).resolve().parents[2]


def test_repository_specs_load_with_defaults():
    ent = load_spec_file(ROOT / "datasets/entities.json")
    assert ent.split_column == "entity1"
    assert ent.id_columns == ("entity2", "entity3", "entity4")
    assert (ent.key_column, ent.value_column, ent.view_prefix) == ("key", "value", "entity_view_")
    assert (ent.database, ent.views_database) == ("lake", "lake_views")  # analysts get the view database only
    reg = load_spec_file(ROOT / "datasets/regulatory.json")
    assert reg.data_columns == ("seriesid", "aod", "rssdid", "submissionts", "key", "value")
    assert reg.natural_key == ("seriesid", "aod", "rssdid", "submissionts", "key")


def test_to_dict_round_trips_and_is_complete():
    ent = load_spec_file(ROOT / "datasets/entities.json")
    d = ent.to_dict()
    assert set(d) == set(load_schema()["properties"])
    assert parse_spec(d) == ent
    assert parse_spec(json.dumps(d)) == ent


BASE = {"name": "x", "raw_prefix": "in/x/", "target": "glue", "database": "db", "table": "t"}

BAD = [
    ({**BASE, "name": "X"}, "does not match"),
    ({**BASE, "raw_prefix": "in/x"}, "does not match"),
    ({**BASE, "target": "hive"}, "is not one of"),
    ({**BASE, "extra": 1}, "unknown property 'extra'"),
    ({k: v for k, v in BASE.items() if k != "table"}, "missing required property 'table'"),
    ({**BASE, "id_columns": "entity2"}, "expected array"),
    ({**BASE, "id_columns": ["Entity2"]}, "does not match"),
    ({**BASE, "key_column": "entity1"}, "must be distinct"),
    ({**BASE, "value_column": "lakepipe_run_id"}, "reserved for ingestion metadata"),
    ({**BASE, "id_columns": ["lakepipe_source_sequencer"]}, "reserved for ingestion metadata"),
    ({**BASE, "key_column": "lakepipe_source_event_time"}, "reserved for ingestion metadata"),
    ({**BASE, "split_column": "a; drop table x"}, "does not match"),
]


@pytest.mark.parametrize("raw,message", BAD)
def test_invalid_specs_are_rejected_with_the_reason(raw, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_spec(raw)


@pytest.mark.parametrize("raw", [BASE, {**BASE, "view_database": None}, {**BASE, "id_columns": []}] + [b for b, _ in BAD])
def test_own_validator_agrees_with_jsonschema(raw):
    schema = load_schema()
    full = apply_defaults(raw, schema)
    ours_ok = not schema_errors(full, schema)
    theirs_ok = not list(jsonschema.Draft202012Validator(schema).iter_errors(full))
    assert ours_ok == theirs_ok, (raw, ours_ok, theirs_ok)


def test_datasets_json_list_rejects_duplicates():
    text = json.dumps([BASE, {**BASE, "raw_prefix": "in/y/"}])
    with pytest.raises(SpecError, match="duplicate dataset names"):
        load_specs_list(text)
    with pytest.raises(SpecError, match="not valid JSON"):
        load_specs_list("{")
    assert [s.name for s in load_specs_list(json.dumps([BASE]))] == ["x"]
