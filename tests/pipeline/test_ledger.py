"""lakepipe.ledger against a real Iceberg table in local Spark: entries, the 'not loaded twice' look-up,
and two runs of one version racing to record it leave one entry."""

import datetime as dt
import threading

import pytest

from lakepipe import ledger
from lakepipe.commit_retry import RetryPolicy
from lakepipe.ordering import SourceOrder
from lakepipe.spec import parse_spec

from .conftest import CATALOG
from .helpers import snapshot_ids

SPEC = parse_spec({"name": "entities", "raw_prefix": "incoming/entities/", "database": "lake",
                   "table": "ledger_tests"})
ORDER = SourceOrder.from_event("2026-11-30T12:00:00.125Z", "0055AED6DCD90281E5")


def entry(run_id, status, *, key="incoming/entities/a.csv", version="v1", read=3, loaded=2, rejected=1, changed=2,
          error=None):
    return ledger.LedgerEntry(
        dataset=SPEC.name, source_bucket="raw", source_key=key, source_version=version, source_etag="e1",
        source_sequencer=ORDER.sequencer, source_event_time=ORDER.event_time, run_id=run_id,
        loaded_at=dt.datetime(2026, 11, 30, 12, 1), status=status, rows_read=read, rows_loaded=loaded,
        rows_rejected=rejected, rows_changed=changed, error=error)


@pytest.fixture
def ledger_table(spark):
    name = ledger.ledger_table_name(SPEC, glue_catalog=CATALOG)
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    yield name
    spark.sql(f"DROP TABLE IF EXISTS {name}")


def test_the_ledger_sits_beside_the_table():
    assert ledger.ledger_table_name(SPEC, glue_catalog=CATALOG) == f"`{CATALOG}`.`lake`.`ledger_tests_ledger`"
    s3t = parse_spec({**SPEC.to_dict(), "target": "s3tables"})
    assert ledger.ledger_table_name(s3t, s3tables_catalog="s3t").startswith("`s3t`.`lake`.")


def test_status_from_the_run_figures():
    assert ledger.status_of(rows_read=5, rows_loaded=5, rows_changed=5) == ledger.LOADED
    assert ledger.status_of(rows_read=5, rows_loaded=5, rows_changed=0) == ledger.UNCHANGED
    assert ledger.status_of(rows_read=5, rows_loaded=0, rows_changed=0) == ledger.REJECTED_ALL
    with pytest.raises(TypeError, match="rows_rejected must be an int"):
        entry("r", ledger.LOADED, rejected=None)


def test_a_recorded_version_is_found_and_not_recorded_twice(spark, ledger_table):
    uri = "s3://raw/incoming/entities/a.csv"
    assert ledger.find_loaded(spark, ledger_table, uri, "v1") is None  # no ledger yet
    assert ledger.record(spark, ledger_table, entry("run-1", ledger.LOADED)) is True
    found = ledger.find_loaded(spark, ledger_table, uri, "v1")
    assert found is not None
    assert (found["run_id"], found["status"], found["rows_read"], found["rows_loaded"], found["rows_rejected"]) == (
        "run-1", "loaded", 3, 2, 1)
    assert (found["source_sequencer"], found["source_event_time"]) == (ORDER.sequencer, ORDER.event_time)
    assert ledger.find_loaded(spark, ledger_table, uri, "v2") is None  # another version of the key
    snapshots = snapshot_ids(spark, ledger_table)
    assert ledger.record(spark, ledger_table, entry("run-2", ledger.UNCHANGED, changed=0)) is False
    assert snapshot_ids(spark, ledger_table) == snapshots  # nothing committed for the duplicate
    assert spark.table(ledger_table).count() == 1


def test_failed_runs_are_listed_but_do_not_settle_the_version(spark, ledger_table):
    uri = "s3://raw/incoming/entities/b.csv"
    failed = entry("run-f", ledger.FAILED, key="incoming/entities/b.csv", read=0, loaded=0, rejected=0, changed=0,
                   error="HeaderError: missing column value")
    assert ledger.record(spark, ledger_table, failed) is True
    assert ledger.find_loaded(spark, ledger_table, uri, "v1") is None  # may be loaded again
    assert ledger.record(spark, ledger_table, entry("run-ok", ledger.LOADED, key="incoming/entities/b.csv")) is True
    assert ledger.find_loaded(spark, ledger_table, uri, "v1")["run_id"] == "run-ok"
    counts = spark.sql(f"SELECT status, rows_read, rows_loaded, rows_rejected FROM {ledger_table} "
                       "ORDER BY run_id").collect()
    assert [tuple(r) for r in counts] == [("failed", 0, 0, 0), ("loaded", 3, 2, 1)]  # 0, not NULL


def test_hostile_keys_stay_literals(spark, ledger_table):
    key = "incoming/entities/it's `x`; DROP TABLE y.csv"
    assert ledger.record(spark, ledger_table, entry("run-h", ledger.LOADED, key=key)) is True
    assert ledger.find_loaded(spark, ledger_table, f"s3://raw/{key}", "v1")["source_key"] == key


def test_two_runs_of_one_version_racing_leave_one_entry(spark, ledger_table):
    ledger.record(spark, ledger_table, entry("run-other", ledger.LOADED, key="incoming/entities/other.csv"))
    barrier = threading.Barrier(2, timeout=120)
    outcomes: dict[str, bool] = {}
    errors: list[BaseException] = []
    real_find = ledger.find_loaded

    def find_then_wait(*args, **kwargs):
        found = real_find(*args, **kwargs)
        if threading.current_thread().name in ("run-x", "run-y") and not getattr(threading.current_thread(), "met", 0):
            threading.current_thread().met = 1
            barrier.wait()  # both have looked and found nothing before either MERGEs
        return found

    def run(run_id):
        try:
            outcomes[run_id] = ledger.record(spark, ledger_table, entry(run_id, ledger.LOADED, key="incoming/entities/c.csv"),
                                             policy=RetryPolicy(attempts=6, base_delay_s=0.2))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ledger.find_loaded = find_then_wait
    try:
        threads = [threading.Thread(target=run, args=(r,), name=r) for r in ("run-x", "run-y")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        ledger.find_loaded = real_find
    assert not errors, [str(e) for e in errors]  # str: a Py4JJavaError's repr hides the Java error
    assert sorted(outcomes.values()) == [False, True], outcomes
    rows = spark.sql(f"SELECT run_id FROM {ledger_table} WHERE source_key = 'incoming/entities/c.csv'").collect()
    assert len(rows) == 1 and outcomes[rows[0][0]] is True
