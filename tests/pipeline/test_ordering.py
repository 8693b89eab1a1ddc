"""lakepipe.ordering against real Iceberg tables in local Spark: the newer source wins whichever run commits last.

Each load below does what ingest.load_into_table does with the order guard (/tmp/handoff/ledger-ingest.diff):
the file's good rows with their source's order, ordering.ensure_order_columns on an existing table, the diff
ordering.changed_rows, then ordering.merge_sql.
"""

import datetime as dt
import threading

import pytest

from lakepipe.commit_retry import RetryPolicy, with_commit_retries
from lakepipe.ordering import (
    SOURCE_EVENT_TIME,
    SOURCE_SEQUENCER,
    SourceOrder,
    changed_rows,
    ensure_order_columns,
    merge_sql,
    order_columns,
)
from lakepipe.spec import parse_spec

from .conftest import CATALOG
from .helpers import snapshot_ids, table_rows

A = "s3://raw/incoming/entities/a.csv"
B = "s3://raw/incoming/entities/b.csv"
T0, T1, T2 = "2026-11-30T12:00:00.000Z", "2026-11-30T12:00:05.000Z", "2026-11-30T12:00:09.000Z"


def _spec(table):
    return parse_spec({"name": "entities", "raw_prefix": "incoming/entities/", "database": "lake", "table": table})


def _rows(value, keys=("k1", "k2")):
    return [("ACME", "e2", "e3", "e4", k, f"{value}-{k}") for k in keys]


def _good(spark, spec, rows, source, order, run_id):
    from pyspark.sql import functions as F

    df = spark.createDataFrame(rows, schema=", ".join(f"`{c}` STRING" for c in spec.data_columns))
    return df.select(*spec.data_columns, F.lit(source).alias("lakepipe_source_file"),
                     F.lit(dt.datetime(2026, 11, 30)).cast("timestamp").alias("lakepipe_ingested_at"),
                     F.lit(run_id).alias("lakepipe_run_id"), *order_columns(order))


def load(spark, spec, table, rows, *, source, order, run_id):
    """One run's commit; returns the number of rows it inserted or updated."""
    good = _good(spark, spec, rows, source, order, run_id).localCheckpoint(eager=True)
    if not spark.catalog.tableExists(table):
        good.writeTo(table).using("iceberg").tableProperty("format-version", "2").create()
        return good.count()
    ensure_order_columns(spark, table)
    changes = changed_rows(spark, good, spec, table, ordered=order is not None).localCheckpoint(eager=True)
    n = changes.count()
    if n:
        view = f"src_{run_id.replace('-', '_')}"
        changes.createOrReplaceTempView(view)
        try:
            spark.sql(merge_sql(spec, table, view, ordered=order is not None))
        finally:
            spark.catalog.dropTempView(view)
    return n


def values(spark, table, spec):
    return [r[-1] for r in table_rows(spark, table, spec)]


@pytest.fixture
def fresh(spark, request):
    spec = _spec(f"ordering_{request.node.name.lower()[:40]}")
    table = f"{CATALOG}.{spec.database}.{spec.table}"
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    yield spec, table
    spark.sql(f"DROP TABLE IF EXISTS {table}")


def test_v2_then_v1_of_one_key_keeps_v2(spark, fresh):
    spec, table = fresh
    load(spark, spec, table, _rows("v2"), source=A, order=SourceOrder.from_event(T1, "0200"), run_id="r-v2")
    snapshots = snapshot_ids(spark, table)
    # v1's run finishes last: its sequencer is smaller, so nothing of it lands, and nothing is committed
    assert load(spark, spec, table, _rows("v1"), source=A, order=SourceOrder.from_event(T0, "01FF"), run_id="r-v1") == 0
    assert values(spark, table, spec) == ["v2-k1", "v2-k2"]
    assert snapshot_ids(spark, table) == snapshots


def test_same_key_the_sequencer_decides_not_the_event_time(spark, fresh):
    spec, table = fresh
    load(spark, spec, table, _rows("v1"), source=A, order=SourceOrder.from_event(T1, "01"), run_id="r-v1")
    # a later version of the key whose event carries an earlier time: S3's sequencer is the order of one key
    assert load(spark, spec, table, _rows("v2"), source=A, order=SourceOrder.from_event(T0, "02"), run_id="r-v2") == 2
    assert values(spark, table, spec) == ["v2-k1", "v2-k2"]


def test_a_different_file_uploaded_later_wins_and_an_earlier_one_loses(spark, fresh):
    spec, table = fresh
    load(spark, spec, table, _rows("a"), source=A, order=SourceOrder.from_event(T1, "05"), run_id="r-a")
    assert load(spark, spec, table, _rows("b", keys=("k2",)), source=B, order=SourceOrder.from_event(T2, "01"),
                run_id="r-b") == 1
    assert values(spark, table, spec) == ["a-k1", "b-k2"]
    # a file uploaded before both, whose run finishes last: changes nothing
    early = "s3://raw/incoming/entities/early.csv"
    assert load(spark, spec, table, _rows("early"), source=early, order=SourceOrder.from_event(T0, "FF"),
                run_id="r-early") == 0
    assert values(spark, table, spec) == ["a-k1", "b-k2"]
    meta = {r[0]: r[1:] for r in spark.sql(
        f"SELECT key, lakepipe_source_file, lakepipe_run_id, {SOURCE_SEQUENCER} FROM {table}").collect()}
    assert meta["k2"][:2] == (B, "r-b") and meta["k2"][2].startswith("01000")


def test_an_equal_order_changes_nothing(spark, fresh):
    spec, table = fresh
    order = SourceOrder.from_event(T1, "0A")
    load(spark, spec, table, _rows("x"), source=A, order=order, run_id="r-1")
    snapshots = snapshot_ids(spark, table)
    # the same version again (a duplicate run), even with other values: equal order is not newer
    assert load(spark, spec, table, _rows("y"), source=A, order=order, run_id="r-2") == 0
    assert values(spark, table, spec) == ["x-k1", "x-k2"] and snapshot_ids(spark, table) == snapshots


def test_an_equal_value_from_a_newer_source_moves_the_order_on(spark, fresh):
    """A later upload with the same value records itself, so an older file arriving after it still loses."""
    spec, table = fresh
    load(spark, spec, table, _rows("x"), source=A, order=SourceOrder.from_event(T0, "01"), run_id="r-a")
    assert load(spark, spec, table, _rows("x"), source=B, order=SourceOrder.from_event(T2, "01"), run_id="r-b") == 2
    middle = "s3://raw/incoming/entities/middle.csv"
    assert load(spark, spec, table, _rows("z"), source=middle, order=SourceOrder.from_event(T1, "01"),
                run_id="r-m") == 0
    assert values(spark, table, spec) == ["x-k1", "x-k2"]


def test_a_table_from_before_ordering_gets_the_columns_and_any_ordered_source_wins(spark, fresh):
    spec, table = fresh
    old_columns = [*spec.data_columns, "lakepipe_source_file", "lakepipe_ingested_at", "lakepipe_run_id"]
    _good(spark, spec, _rows("old", keys=("k1", "k2", "k3")), A, None, "r-old").select(*old_columns) \
        .writeTo(table).using("iceberg").tableProperty("format-version", "2").create()
    assert SOURCE_EVENT_TIME not in spark.table(table).columns

    assert load(spark, spec, table, _rows("new"), source=B, order=SourceOrder.from_event(T0, "01"), run_id="r-new") == 2
    assert values(spark, table, spec) == ["new-k1", "new-k2", "old-k3"]
    orders = dict(spark.sql(f"SELECT key, {SOURCE_EVENT_TIME} FROM {table}").collect())
    assert orders["k3"] is None and orders["k1"] == dt.datetime(2026, 11, 30, 12)
    assert ensure_order_columns(spark, table) == []  # idempotent


def test_an_unordered_load_keeps_the_old_rule(spark, fresh):
    spec, table = fresh
    load(spark, spec, table, _rows("x"), source=A, order=SourceOrder.from_event(T1, "01"), run_id="r-1")
    assert load(spark, spec, table, _rows("x"), source="file:///tmp/manual.csv", order=None, run_id="r-2") == 0
    assert load(spark, spec, table, _rows("m"), source="file:///tmp/manual.csv", order=None, run_id="r-3") == 2
    assert values(spark, table, spec) == ["m-k1", "m-k2"]


def test_racing_runs_of_v1_and_v2_leave_v2(spark, fresh):
    """Both runs diff against the same snapshot and MERGE at once: Iceberg fails the later commit, the retry
    redoes its diff and MERGE against the winner's rows, and the guard keeps v2 in either order."""
    spec, table = fresh
    load(spark, spec, table, _rows("v0"), source=A, order=SourceOrder.from_event(T0, "01"), run_id="r-v0")
    barrier = threading.Barrier(2, timeout=120)
    retries: dict[str, int] = {}
    first_attempt = {"r-v1", "r-v2"}
    errors: list[BaseException] = []

    def run(value, order, run_id):
        def attempt():
            if run_id in first_attempt:
                first_attempt.discard(run_id)
                barrier.wait()  # the first attempts start together
            return load(spark, spec, table, _rows(value), source=A, order=order, run_id=run_id)
        try:
            _, retries[run_id] = with_commit_retries(attempt, policy=RetryPolicy(attempts=6, base_delay_s=0.2),
                                                     before_retry=lambda: spark.catalog.refreshTable(table))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=("v1", SourceOrder.from_event(T1, "02"), "r-v1")),
               threading.Thread(target=run, args=("v2", SourceOrder.from_event(T2, "03"), "r-v2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, [str(e) for e in errors]  # str: a Py4JJavaError's repr hides the Java error
    assert values(spark, table, spec) == ["v2-k1", "v2-k2"]
    print(f"commit retries: {retries}")


@pytest.mark.parametrize("late,early", [("v1", "v2"), ("v2", "v1")])
def test_a_diff_taken_before_another_commit_is_rechecked_by_the_merge(spark, fresh, late, early):
    """Run `late` picks its rows while the table still holds v0; run `early` commits; then `late` MERGEs. Its
    MERGE reads the new snapshot and the guard decides again: v2 ends up in the table in both orders."""
    spec, table = fresh
    orders = {"v1": SourceOrder.from_event(T1, "02"), "v2": SourceOrder.from_event(T2, "03")}
    load(spark, spec, table, _rows("v0"), source=A, order=SourceOrder.from_event(T0, "01"), run_id="r-v0")
    ensure_order_columns(spark, table)
    stale = changed_rows(spark, _good(spark, spec, _rows(late), A, orders[late], f"r-{late}"), spec, table,
                         ordered=True).localCheckpoint(eager=True)
    assert stale.count() == 2  # both rows are newer than v0's
    load(spark, spec, table, _rows(early), source=A, order=orders[early], run_id=f"r-{early}")
    stale.createOrReplaceTempView("stale_src")
    try:
        spark.sql(merge_sql(spec, table, "stale_src", ordered=True))
    finally:
        spark.catalog.dropTempView("stale_src")
    assert values(spark, table, spec) == ["v2-k1", "v2-k2"]
