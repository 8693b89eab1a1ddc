"""JSON feeds (issue 12 part 4): NDJSON and a top-level array, gzip, nested objects flattened by the spec's
paths, arrays exploded, one row per leaf field, malformed records rejected with their line; quarantine,
dedupe and MERGE as for CSV."""

import gzip
import json
from pathlib import Path

import pytest

from lakepipe.ingest import run_ingest
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import read_rejects

ROOT = Path(__file__).resolve().parents[2]

RECORDS = [
    {"company": {"name": "ACME", "region": "EMEA"}, "period": {"year": 2024, "half": "H1"},
     "figures": [{"metric": "revenue", "amount": 10.5}, {"metric": "cost", "amount": 4}]},
    {"company": {"name": "Globex", "region": "APAC"}, "period": {"year": 2024, "half": "H2"},
     "figures": [{"metric": "revenue", "amount": 7}, {"metric": "revenue", "amount": 8}]},  # the later one wins
    {"company": {"name": "Initech"}, "period": {"year": 2025, "half": "H1"}, "figures": []},  # no element: rejected
]
EXPLODE = {"explode": "$.figures", "columns": {
    "entity1": "$.company.name", "entity2": "$.company.region", "entity3": "$.period.year",
    "entity4": "$.period.half", "key": "@.metric", "value": "@.amount"}}


def spec_for(table, rule):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": table, "format": "json", "json": rule})


def ingest(spark, spec, path, run_id, tmp_path):
    return run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)


def rows_of(spark, spec):
    return {tuple(r[:5]): r[5] for r in spark.table(f"{CATALOG}.lake.{spec.table}").select(*spec.data_columns).collect()}


EXPECTED = {("ACME", "EMEA", "2024", "H1", "revenue"): "10.5", ("ACME", "EMEA", "2024", "H1", "cost"): "4",
            ("Globex", "APAC", "2024", "H2", "revenue"): "8"}


@pytest.mark.parametrize("shape", ["ndjson", "array", "ndjson.gz", "array.gz"])
def test_nested_records_explode_into_rows(spark, tmp_path, shape):
    if shape.startswith("ndjson"):
        text = "\n".join(json.dumps(r) for r in RECORDS[:2]) + "\n{not json\n\n" + json.dumps(RECORDS[2]) + "\n"
    else:
        text = json.dumps(RECORDS[:2] + [RECORDS[2]], indent=2)
    data = text.encode()
    src = tmp_path / f"feed.{'json.gz' if shape.endswith('.gz') else 'json'}"
    src.write_bytes(gzip.compress(data) if shape.endswith(".gz") else data)
    spec = spec_for(f"entities_json_{shape.replace('.', '_')}", EXPLODE)
    res = ingest(spark, spec, src, "run-j", tmp_path)
    assert rows_of(spark, spec) == EXPECTED
    rejects = [(r["line"], r["reason"]) for r in read_rejects(tmp_path / "rejects" / "entities" / "run-j")]
    if shape.startswith("ndjson"):
        # line 2: Globex's first revenue (superseded); line 3: malformed; line 5: Initech has no figures
        assert rejects == [(2, "duplicate_key"), (3, "unparseable"), (5, "empty_key")]
        assert res.blank_lines == 1
    else:  # array elements are numbered 1, 2, 3
        assert rejects == [(2, "duplicate_key"), (3, "empty_key")]
    assert res.rows_loaded == 3


def test_one_row_per_leaf_field_and_a_reload_changes_nothing(spark, tmp_path):
    records = [{"report": {"id": "R1", "bank": "B7"}, "data": {"assets": {"total": 100, "cash": 5}, "rating": "A",
                                                               "tags": ["x", "y"]}},
               {"report": {"id": "R2", "bank": "B8"}, "data": {"assets": {"total": 1}}}]
    src = tmp_path / "leaves.json"
    src.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    rule = {"leaves": "$.data", "columns": {"entity1": "$.report.id", "entity2": "$.report.bank"}}
    spec = spec_for("entities_json_leaves", rule)
    res = ingest(spark, spec, src, "run-l1", tmp_path)
    assert rows_of(spark, spec) == {
        ("R1", "B7", None, None, "assets.total"): "100", ("R1", "B7", None, None, "assets.cash"): "5",
        ("R1", "B7", None, None, "rating"): "A", ("R1", "B7", None, None, "tags"): '["x","y"]',
        ("R2", "B8", None, None, "assets.total"): "1"}
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (5, 5, 0)
    again = ingest(spark, spec, src, "run-l2", tmp_path)
    assert again.rows_changed == 0


def test_a_wide_record_with_1500_keys(spark, tmp_path):
    """Regulatory reports: 1,500+ keys per split value in one record."""
    record = {"series": "FFIEC", "items": {f"RCFD{i:04d}": i for i in range(1600)}}
    src = tmp_path / "wide.json"
    src.write_text(json.dumps(record) + "\n")
    spec = spec_for("entities_json_wide", {"leaves": "$.items", "columns": {"entity1": "$.series"}})
    res = ingest(spark, spec, src, "run-w", tmp_path)
    assert res.rows_loaded == 1600
    rows = rows_of(spark, spec)
    assert rows[("FFIEC", None, None, None, "RCFD1599")] == "1599" and len(rows) == 1600
