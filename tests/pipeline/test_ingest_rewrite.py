"""The load into an existing table: the diff, then a rewrite of only the split partitions the changed rows touch,
validated against the diff's snapshot (lakepipe.ingest.rewrite_partitions)."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from lakepipe import ingest, ordering
from lakepipe.commit_retry import is_commit_conflict
from lakepipe.ordering import order_columns
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import rows_sorted, snapshot_ids, write_csv

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["entity1", "entity2", "entity3", "entity4", "key", "value"]
BASE = [[split, "EMEA" if split != "C" else "", "2024", "H1", f"k{i}", f"{split}{i}"]
        for split in ("A", "B", "C") for i in range(4)]


def spec_for(table: str):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": table})


def ingest_file(spark, spec, path, run_id, tmp_path):
    return ingest.run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                             rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)


def values(spark, table):
    return {(r[0], r[1]): r[2] for r in spark.table(table).select("entity1", "key", "value").collect()}


def files_by_partition(spark, table):
    out: dict[str, set[str]] = {}
    for r in spark.sql(f"SELECT partition.entity1, file_path FROM {table}.files").collect():
        out.setdefault(r[0], set()).add(r[1])
    return out


def good_rows(spark, spec, rows, run_id):
    """What run_ingest hands the load: the data columns plus the metadata and (unordered) order columns."""
    from pyspark.sql import functions as F

    df = spark.createDataFrame(rows, schema=", ".join(f"`{c}` STRING" for c in spec.data_columns))
    df = df.replace("", None, subset=list(spec.id_columns))
    return df.select(*spec.data_columns, F.lit("file:///stale.csv").alias("lakepipe_source_file"),
                     F.lit(dt.datetime(2026, 12, 1)).cast("timestamp").alias("lakepipe_ingested_at"),
                     F.lit(run_id).alias("lakepipe_run_id"), *order_columns(None))


@pytest.fixture
def loaded(spark, tmp_path, request):
    name = "rewrite_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]  # a table per test
    spec = spec_for(name)
    table = f"{CATALOG}.{spec.database}.{spec.table}"
    ingest_file(spark, spec, write_csv(tmp_path / "base.csv", HEADER, BASE), "run-base", tmp_path)
    return spec, table


@pytest.mark.parametrize("broadcast", [True, False], ids=["broadcast-keys", "shuffled"])
def test_only_the_touched_partitions_are_rewritten(spark, tmp_path, loaded, monkeypatch, broadcast):
    """A file holding rows of A (unchanged) and B (one changed, one new) and C (one changed, empty id column):
    one commit; A's data file is the one it was; the rows are the MERGE's, whether the changed keys are
    broadcast or both sides shuffled."""
    spec, table = loaded
    if not broadcast:
        monkeypatch.setattr(ingest, "BROADCAST_CHANGED_KEYS", 0)
    before_files, snaps = files_by_partition(spark, table), snapshot_ids(spark, table)
    rows = [r for r in BASE if r[0] == "A"] + [
        ["B", "EMEA", "2024", "H1", "k1", "B1-changed"], ["B", "EMEA", "2024", "H1", "k9", "B9-new"],
        ["C", "", "2024", "H1", "k2", "C2-changed"]]
    res = ingest_file(spark, spec, write_csv(tmp_path / "change.csv", HEADER, rows), "run-change", tmp_path)

    assert res.rows_changed == 3 and len(snapshot_ids(spark, table)) == len(snaps) + 1
    expected = {(r[0], r[4]): r[5] for r in BASE} | {("B", "k1"): "B1-changed", ("B", "k9"): "B9-new",
                                                     ("C", "k2"): "C2-changed"}
    assert values(spark, table) == expected  # the empty id column matched null-safe: C/k2 replaced, not added
    after_files = files_by_partition(spark, table)
    assert after_files["A"] == before_files["A"]
    assert after_files["B"].isdisjoint(before_files["B"]) and after_files["C"].isdisjoint(before_files["C"])
    summary = spark.sql(f"SELECT summary FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1").first()[0]
    assert summary["changed-partition-count"] == "2", summary
    run_ids = {(r[0], r[1]): r[2] for r in spark.table(table).select("entity1", "key", "lakepipe_run_id").collect()}
    assert run_ids[("B", "k0")] == "run-base" and run_ids[("B", "k1")] == "run-change"


def test_a_stale_diff_is_refused_and_redone(spark, tmp_path, loaded):
    """A run's diff is taken; another run commits to the same partition; the first run's rewrite must not
    land (it would drop the other's row): its commit fails as a conflict, and the load redone decides again."""
    spec, table = loaded
    snapshot = ordering.table_state(spark, table)[0]
    good = good_rows(spark, spec, [["B", "EMEA", "2024", "H1", "k1", "stale"]], "run-stale")
    changes = ingest.changed_rows(spark, good, spec, table, False, ["B"], (), snapshot_id=snapshot).localCheckpoint()
    assert ingest.count_changes(changes, spec) == (1, {"B": True})  # an update of B

    other = [["B", "EMEA", "2024", "H1", "k7", "other-new"]]
    ingest_file(spark, spec, write_csv(tmp_path / "other.csv", HEADER, other), "run-other", tmp_path)
    committed = snapshot_ids(spark, table)

    with pytest.raises(Exception) as refused:
        ingest.rewrite_partitions(spark, changes, 1, {"B": True}, spec, table, snapshot)
    assert is_commit_conflict(refused.value), refused.value
    assert snapshot_ids(spark, table) == committed
    assert values(spark, table)[("B", "k7")] == "other-new"

    spark.catalog.refreshTable(table)  # what commit_retry's before_retry does
    assert ingest.load_into_table(spark, good, spec, table, "run-stale", split_values=["B"]) == (False, 1)
    now = values(spark, table)
    assert (now[("B", "k1")], now[("B", "k7")]) == ("stale", "other-new")


def test_a_commit_to_another_partition_does_not_conflict(spark, tmp_path, loaded):
    """The rewrite's validation covers the partitions it replaces: another run's commit to C between the diff
    and the rewrite of B is kept, and the rewrite lands."""
    spec, table = loaded
    snapshot = ordering.table_state(spark, table)[0]
    good = good_rows(spark, spec, [["B", "EMEA", "2024", "H1", "k1", "B-late"]], "run-late")
    changes = ingest.changed_rows(spark, good, spec, table, False, ["B"], (), snapshot_id=snapshot).localCheckpoint()
    ingest_file(spark, spec, write_csv(tmp_path / "c.csv", HEADER, [["C", "", "2024", "H1", "k0", "C-other"]]),
                "run-c", tmp_path)

    assert ingest.rewrite_partitions(spark, changes, *ingest.count_changes(changes, spec), spec, table, snapshot)
    now = values(spark, table)
    assert (now[("B", "k1")], now[("C", "k0")]) == ("B-late", "C-other")
    assert len(now) == len(BASE)
    assert rows_sorted(spark.table(table).groupBy("entity1").count().collect()) == [("A", 4), ("B", 4), ("C", 4)]


def test_a_partition_that_only_gains_keys_is_not_rewritten(spark, tmp_path, loaded):
    """New keys in A and a changed value in B: the MERGE does it, adding a file to A and keeping A's file (the
    rewrite would replace A's whole partition to add two rows)."""
    spec, table = loaded
    before_files = files_by_partition(spark, table)
    rows = [["A", "EMEA", "2024", "H1", "k8", "A8-new"], ["A", "EMEA", "2024", "H1", "k9", "A9-new"],
            ["B", "EMEA", "2024", "H1", "k0", "B0-changed"]]
    res = ingest_file(spark, spec, write_csv(tmp_path / "mixed.csv", HEADER, rows), "run-mixed", tmp_path)

    assert res.rows_changed == 3
    after_files = files_by_partition(spark, table)
    assert before_files["A"] < after_files["A"] and after_files["C"] == before_files["C"]
    assert values(spark, table) == {(r[0], r[4]): r[5] for r in BASE} | {
        ("A", "k8"): "A8-new", ("A", "k9"): "A9-new", ("B", "k0"): "B0-changed"}


def test_after_a_rollback_the_diff_reads_the_current_snapshot(spark, tmp_path, loaded):
    """An operator rolls the table back past a load; loading that file again must land it again: the diff
    reads the snapshot the branch points at, not the newest one by sequence number (the rolled-back load's)."""
    spec, table = loaded
    base_snapshot, base_sequence = ordering.table_state(spark, table)
    change = write_csv(tmp_path / "change.csv", HEADER, [["B", "EMEA", "2024", "H1", "k1", "B1-changed"]])
    assert ingest_file(spark, spec, change, "run-change", tmp_path).rows_changed == 1
    assert ordering.table_state(spark, table)[1] > base_sequence

    spark.sql(f"CALL {CATALOG}.system.rollback_to_snapshot('{spec.database}.{spec.table}', {base_snapshot})")
    assert ordering.table_state(spark, table) == (base_snapshot, base_sequence)
    assert values(spark, table)[("B", "k1")] == "B1"

    assert ingest_file(spark, spec, change, "run-change-again", tmp_path).rows_changed == 1
    assert values(spark, table)[("B", "k1")] == "B1-changed"


def test_the_table_state_is_read_fresh_from_the_catalog(spark, tmp_path, loaded):
    """ordering.table_state (the diff's snapshot, the view job's table state): a commit made through another
    session's catalog (whose cache this session does not share) is seen, with a higher sequence number; quoted
    and plain names; (None, 0) for no table or no snapshot."""
    spec, table = loaded
    mine, my_sequence = ordering.table_state(spark, table)
    assert mine == spark.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = 'main'").first()[0]
    other = spark.newSession()  # its own catalog instances: this session's cached table goes stale
    other.sql(f"INSERT INTO {table} SELECT * FROM {table} WHERE 1 = 0")  # a commit, no rows
    theirs = other.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = 'main'").first()[0]
    assert theirs != mine
    assert ordering.table_state(spark, table) == (theirs, my_sequence + 1)
    quoted = ".".join(f"`{p}`" for p in (CATALOG, spec.database, spec.table))
    assert ordering.table_state(spark, quoted) == (theirs, my_sequence + 1)

    assert ordering.table_state(spark, f"{CATALOG}.{spec.database}.no_such_table") == (None, 0)
    empty = f"{CATALOG}.{spec.database}.no_snapshot_yet"
    spark.sql(f"DROP TABLE IF EXISTS {empty}")
    spark.sql(f"CREATE TABLE {empty} (a STRING) USING iceberg")
    assert ordering.table_state(spark, empty) == (None, 0)
