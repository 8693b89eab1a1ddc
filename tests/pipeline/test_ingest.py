"""The ingest logic in local Spark against a local Iceberg catalog named like the Glue one."""

import csv
from pathlib import Path

import pytest

from lakepipe.ingest import run_ingest
from lakepipe.rules import HeaderError
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import read_rejects, rows_sorted, snapshot_ids, table_rows

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def spec():
    # A table of its own per module, so test modules do not depend on each other.
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": "entities_ingest_tests"})


@pytest.fixture(scope="module")
def table(spec):
    return f"{CATALOG}.{spec.database}.{spec.table}"


def ingest(spark, spec, path, run_id, rejects):
    return run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{rejects}/", glue_catalog=CATALOG)


def sample_rows():
    with open(ROOT / "sample_data/entities_sample.csv", newline="") as f:
        r = csv.reader(f)
        next(r)
        return sorted(tuple(row) for row in r)


def test_clean_load_then_reload_is_a_no_op(spark, spec, table, tmp_path):
    src = ROOT / "sample_data/entities_sample.csv"
    first = ingest(spark, spec, src, "run-1", tmp_path)
    assert first.table_created
    assert (first.rows_read, first.rows_loaded, first.rows_rejected) == (480, 480, 0)
    assert first.rejects_location is None
    assert table_rows(spark, table, spec) == sample_rows()
    ddl = spark.sql(f"SHOW CREATE TABLE {table}").first()[0]
    assert "PARTITIONED BY (entity1)" in ddl and "'format-version' = '2'" in ddl, ddl
    assert spark.sql(f"SELECT count(DISTINCT partition) FROM {table}.files").first()[0] == 4  # one per split value
    assert spark.sql(f"SELECT count(*) FROM {table}.snapshots").first()[0] == 1
    meta_before = sorted(tuple(r) for r in spark.table(table).collect())
    snaps = snapshot_ids(spark, table)

    again = ingest(spark, spec, src, "run-2", tmp_path)
    assert (again.rows_read, again.rows_loaded, again.rows_rejected, again.table_created) == (480, 480, 0, False)
    assert snapshot_ids(spark, table) == snaps, "a re-load must not commit"
    assert sorted(tuple(r) for r in spark.table(table).collect()) == meta_before  # incl. run id / ingested_at


def test_changed_value_updates_only_that_row(spark, spec, table, tmp_path):
    path = tmp_path / "change.csv"
    path.write_text("entity1,entity2,entity3,entity4,key,value\nACME,EMEA,2024,H1,revenue,CHANGED\n"
                    "NewCo,X,2026,H1,revenue,1\n")
    before = {r[:5]: r for r in spark.table(table).select(*spec.data_columns, "lakepipe_run_id").collect()}
    snaps = snapshot_ids(spark, table)
    res = ingest(spark, spec, path, "run-3", tmp_path)
    assert res.rows_loaded == 2
    assert len(snapshot_ids(spark, table)) == len(snaps) + 1, "one commit"
    after = {r[:5]: r for r in spark.table(table).select(*spec.data_columns, "lakepipe_run_id").collect()}
    assert after[("ACME", "EMEA", "2024", "H1", "revenue")][5:] == ("CHANGED", "run-3")
    assert after[("NewCo", "X", "2026", "H1", "revenue")][5:] == ("1", "run-3")
    untouched = [k for k in before if k != ("ACME", "EMEA", "2024", "H1", "revenue")]
    assert all(after[k] == before[k] for k in untouched)


def test_bad_rows_are_quarantined_with_reason_and_line(spark, spec, table, tmp_path):
    src = DATA / "bad_rows.csv"
    res = ingest(spark, spec, src, "run-bad", tmp_path)
    assert res.rows_read == 10 and res.rows_loaded == 2 and res.rows_rejected == 8
    assert res.rejects_by_reason == {"unparseable": 1, "wrong_field_count": 3, "empty_split_value": 1,
                                     "empty_key": 1, "duplicate_key": 1, "duplicate_row": 1}
    assert res.rejects_location == f"file://{tmp_path}/entities/run-bad/"
    rejects = read_rejects(tmp_path / "entities" / "run-bad")
    got = [(r["line"], r["reason"]) for r in rejects]
    assert got == [(2, "duplicate_key"), (3, "wrong_field_count"), (5, "wrong_field_count"), (6, "empty_split_value"),
                   (7, "empty_key"), (9, "wrong_field_count"), (10, "duplicate_row"), (12, "unparseable")]
    assert all(r["source_file"] == f"file://{src}" and r["run_id"] == "run-bad" for r in rejects)
    assert rejects[0]["record"] == "ACME,EMEA,2024,H1,revenue,1" and "winning line 8" in rejects[0]["detail"]
    assert "expected 6 fields" in rejects[1]["detail"]
    rows = {r[:5]: r[5] for r in spark.table(table).select(*spec.data_columns).collect()}
    assert rows[("ACME", "EMEA", "2024", "H1", "revenue")] == "5"  # the last line won
    assert rows[("Globex", None, None, None, "cost")] == "6"  # empty ids are null, still one row


def test_missing_column_fails_and_leaves_table_unchanged(spark, spec, table, tmp_path):
    snaps = snapshot_ids(spark, table)
    rows = table_rows(spark, table, spec)
    src = DATA / "missing_column.csv"
    with pytest.raises(HeaderError) as e:
        ingest(spark, spec, src, "run-missing", tmp_path)
    assert str(src) in str(e.value) and "['entity3', 'entity4']" in str(e.value)
    assert snapshot_ids(spark, table) == snaps and table_rows(spark, table, spec) == rows
    assert not (tmp_path / "entities" / "run-missing").exists()


def test_crlf_bom_reordered_header_and_quotes(spark, spec, table, tmp_path):
    res = ingest(spark, spec, DATA / "crlf_bom_reordered.csv", "run-crlf", tmp_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (2, 2, 0)
    rows = {r[:5]: r[5] for r in spark.table(table).select(*spec.data_columns).collect()}
    assert rows[("ACME", "EMEA", "2024", "H1", "revenue")] == "10"
    assert rows[("ACME", "EMEA", "2024", "H1", "cost")] == "2,5"


def test_empty_file_fails_clearly(spark, spec, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(HeaderError, match="empty"):
        ingest(spark, spec, empty, "run-empty", tmp_path)


def test_a_failed_commit_leaves_no_rejects(spark, spec, table, tmp_path, monkeypatch):
    """Rejects are written after the commit: when the commit fails, neither the table nor the rejects
    location shows anything of the run."""
    import lakepipe.ingest as ingest_module

    def failing_commit(*args, **kwargs):
        raise RuntimeError("commit failed: CommitFailedException (simulated)")

    snaps = snapshot_ids(spark, table)
    monkeypatch.setattr(ingest_module, "load_into_table", failing_commit)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest(spark, spec, DATA / "bad_rows.csv", "run-commit-fails", tmp_path)
    assert snapshot_ids(spark, table) == snaps
    assert not (tmp_path / "entities" / "run-commit-fails").exists()


def test_the_diff_is_a_shuffled_hash_join_when_small_with_the_same_rows(spark, spec):
    """The diff runs under SMALL_HASH_JOIN: adaptive execution turns its sort-merge join into a shuffled hash
    join (no sort) when the table's side is small per partition, and keeps the sort-merge join (which can
    spill) when it is not; both give the same rows. The settings do not outlive the block, set or not."""
    from lakepipe.ingest import SMALL_HASH_JOIN, changed_rows, sql_conf

    table = f"{CATALOG}.{spec.database}.entities_diff_join"
    rows = [("A", "x", None, f"i{i}", f"k{i % 7}", str(i)) for i in range(500)]
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    schema = ", ".join(f"{c} STRING" for c in spec.data_columns)
    spark.createDataFrame(rows, schema).writeTo(table).using("iceberg").create()
    spark.sql(f"ALTER TABLE {table} ADD COLUMNS (lakepipe_source_file STRING, lakepipe_source_event_time TIMESTAMP, "
              "lakepipe_source_sequencer STRING)")
    # the same rows, one value changed, one new key
    file_rows = rows[:300] + [("A", "x", None, "i300", "k6", "changed"), ("A", "x", None, "new", "k0", "1")]
    good = spark.createDataFrame(file_rows, schema)
    plans, results = {}, {}
    spark.conf.set("spark.sql.adaptive.advisoryPartitionSizeInBytes", "48MB")  # a session's own setting
    no_broadcast = {"spark.sql.autoBroadcastJoinThreshold": "-1"}  # the test's tables are tiny
    for label, settings in (("small", SMALL_HASH_JOIN),
                            ("large", {**SMALL_HASH_JOIN, "spark.sql.adaptive.maxShuffledHashJoinLocalMapThreshold": "1b"})):
        with sql_conf(spark, {**no_broadcast, **settings}):
            diff = changed_rows(spark, good, spec, table, ordered=False, split_values=["A"], extra_columns=())
            results[label] = rows_sorted(diff.collect())
            plan = diff._jdf.queryExecution().executedPlan().toString()
            plans[label] = plan.split("== Initial Plan ==")[0]  # adaptive execution's final plan
    assert "ShuffledHashJoin" in plans["small"] and "SortMergeJoin" not in plans["small"], plans["small"]
    assert "SortMergeJoin" in plans["large"], plans["large"]
    assert results["small"] == results["large"] == rows_sorted(  # with ordering.MATCHED: an update, an insert
        [(*file_rows[300], True), (*file_rows[301], False)])
    assert spark.conf.get("spark.sql.adaptive.advisoryPartitionSizeInBytes") == "48MB"
    assert spark.conf.get("spark.sql.adaptive.maxShuffledHashJoinLocalMapThreshold", None) is None
    assert spark.conf.get("spark.sql.autoBroadcastJoinThreshold") != "-1"
    spark.conf.unset("spark.sql.adaptive.advisoryPartitionSizeInBytes")
