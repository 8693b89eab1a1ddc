"""Quality rules in local Spark (issue 12 part 3): every rule type with both severities, counted in the
run's one aggregate; an error fails the run before any commit; results go to `<table>_quality`."""

import json
from pathlib import Path

import pytest

from lakepipe import quality
from lakepipe.ingest import run_ingest
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import snapshot_ids

ROOT = Path(__file__).resolve().parents[2]
HEADER = "entity1,entity2,entity3,entity4,key,value\n"
DATA = (HEADER
        + "ACME,EMEA,2024,H1,revenue,10\n"        # 2
        + "ACME,,2024,H1,cost,-5\n"               # 3: entity2 empty; value below 0
        + "ACME,EMEA,2024,H1,margin,n/a\n"        # 4: not a number (value_range skips it)
        + "ACME,EMEA,2024,H1,revenue,11\n"        # 5: revenue again, another value: line 2 fails unique
        + "Globex,APAC,2024,H1,Headcount,7\n"     # 6: key not lower case; entity2 not accepted
        + "Globex,APAC,2024,H1,cost\n"            # 7: rejected (wrong field count)
        + "Globex,APAC,2024,H1,cost,1e6\n")       # 8: 1,000,000 > max

RULES = [
    {"type": "not_null", "column": "entity2"},
    {"type": "accepted_values", "column": "entity2", "values": ["EMEA"]},
    {"type": "regex", "column": "key", "pattern": "^[a-z_]+$"},
    {"type": "value_range", "min": 0, "max": 1000},
    {"type": "unique"},
    {"name": "at_least_ten_rows", "type": "row_count", "min": 10},
    {"name": "at_most_three_rows", "type": "row_count", "max": 3},
    {"type": "max_reject_ratio", "max": 0.1},
    {"name": "passes", "type": "accepted_values", "column": "entity1", "values": ["ACME", "Globex"]},
]
EXPECTED = {  # rule -> (failing rows, sample lines)
    "not_null_entity2": (1, [3]),
    "accepted_values_entity2": (2, [6, 8]),
    "regex_key": (1, [6]),
    "value_range": (2, [3, 8]),
    "unique": (1, [2]),
    "at_least_ten_rows": (1, []),
    "at_most_three_rows": (1, []),
    "max_reject_ratio": (1, []),
    "passes": (0, []),
}


def spec_with(table, severity):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": table, "quality_rules": [{**r, "severity": severity} for r in RULES]})


def ingest(spark, spec, path, run_id, tmp_path):
    return run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)


def test_warn_rules_are_recorded_and_the_run_loads(spark, tmp_path):
    spec = spec_with("entities_quality_warn", "warn")
    src = tmp_path / "q.csv"
    src.write_text(DATA)
    res = ingest(spark, spec, src, "run-qw", tmp_path)
    assert res.rows_loaded == 5 and res.table_created
    got = {r["rule"]: (r["failing_rows"], r["sample_lines"]) for r in res.quality}
    assert got == EXPECTED
    assert all(r["severity"] == "warn" and r["passed"] == (r["rule"] == "passes") for r in res.quality)
    assert res.report()["quality"] == res.quality

    qtable = quality.quality_table_name(spec, glue_catalog=CATALOG)
    assert qtable == f"`{CATALOG}`.`lake`.`entities_quality_warn_quality`"
    spark.sql(f"DROP TABLE IF EXISTS {qtable}")
    quality.record(spark, qtable, spec, [quality.RuleResult(**r) for r in res.quality], run_id="run-qw",
                   source_uri=f"file://{src}", source_version="v1")
    rows = spark.sql(f"SELECT rule, passed, failing_rows, sample_lines, run_id FROM {qtable}").collect()
    assert sorted((r[0], r[1], r[2], r[3], r[4]) for r in rows) == sorted(
        (rule, n == 0, n, str(lines), "run-qw") for rule, (n, lines) in EXPECTED.items())


def test_an_error_rule_fails_the_run_before_any_commit(spark, tmp_path):
    spec = spec_with("entities_quality_error", "warn")
    src = tmp_path / "good.csv"
    src.write_text(HEADER + "ACME,EMEA,2024,H1,revenue,10\n")
    ingest(spark, spec, src, "run-qe1", tmp_path)  # creates the table (the rules only warn)
    table = f"{CATALOG}.lake.entities_quality_error"
    snaps = snapshot_ids(spark, table)

    strict = parse_spec({**spec.to_dict(), "quality_rules": [
        {"type": "value_range", "max": 1000, "severity": "error"}, {"type": "unique", "severity": "warn"}]})
    bad = tmp_path / "bad.csv"
    bad.write_text(DATA)
    with pytest.raises(quality.QualityError) as e:
        ingest(spark, strict, bad, "run-qe2", tmp_path)
    assert str(e.value) == (f"file://{bad}: rule value_range (value_range) failed for 1 row(s), e.g. lines [8]: "
                            "value is a number outside [-inf, 1000]; nothing was loaded")
    assert [(r.rule, r.passed) for r in e.value.results] == [("value_range", False), ("unique", False)]
    assert snapshot_ids(spark, table) == snaps  # nothing committed
    assert not (tmp_path / "rejects" / "entities" / "run-qe2").exists()  # no rejects either


def test_sample_lines_name_each_line_once_when_a_record_gives_several_rows(spark, tmp_path):
    """A JSON record exploded into several failing rows is one line: its number appears once, and does not
    crowd the next failing line out of the five samples."""
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    spec = parse_spec({**raw, "table": "entities_quality_json", "format": "json", "json": {
        "explode": "$.figures", "columns": {"entity1": "$.company", "entity2": "$.region", "entity3": "$.year",
                                            "entity4": "$.half", "key": "@.metric", "value": "@.amount"}},
        "quality_rules": [{"type": "value_range", "min": 0, "severity": "warn"}]})
    record = {"company": "ACME", "region": "EMEA", "year": 2024, "half": "H1"}
    src = tmp_path / "q.json"
    src.write_text(json.dumps({**record, "figures": [{"metric": f"m{i}", "amount": -i - 1} for i in range(6)]}) + "\n"
                   + json.dumps({**record, "half": "H2", "figures": [{"metric": "m0", "amount": 1}]}) + "\n"
                   + json.dumps({**record, "half": "H2", "figures": [{"metric": "m1", "amount": -1}]}) + "\n")
    res = ingest(spark, spec, src, "run-qj", tmp_path)
    assert res.rows_loaded == 8
    assert [(r["failing_rows"], r["sample_lines"]) for r in res.quality] == [(7, [1, 3])]
