"""ingest.main and the dataset's ledger (no Spark: the ledger's Spark side is tests/pipeline/test_ledger.py):
a settled version is not loaded again, every other run is recorded after its load, failed runs too."""

import datetime as dt
import json

import pytest

from lakepipe import ingest, ledger
from lakepipe.ordering import SourceOrder

SPEC = '{"name": "entities", "raw_prefix": "incoming/entities/", "database": "lake", "table": "entities"}'
SRC = "file:///data/a.csv"  # not s3://: no staging, so no S3 is needed but for the report


@pytest.fixture
def calls(monkeypatch, tmp_path):
    seen: dict = {"records": [], "runs": [], "reports": {}}
    monkeypatch.setattr(ingest.ledger, "record", lambda spark, table, entry, **k: seen["records"].append((table, entry)))
    monkeypatch.setattr("lakepipe.s3util.put_json", lambda s3, uri, body: seen["reports"].update({uri: body}))
    return seen


def args(**extra):
    return {"dataset_spec": SPEC, "source_uri": SRC, "source_version": "v7", "source_etag": "e7", "run_id": "run-2",
            "runs_location": "s3://art/runs/", "rejects_location": "s3://raw/rejects/",
            "source_sequencer": "0055AED6DCD90281E5", "source_event_time": "2026-11-30T12:00:00.125Z", **extra}


def fake_run(seen, result=None, fail=None):
    def run(spark, spec, **kw):
        seen["runs"].append(kw)
        if fail:
            raise fail
        return result
    return run


def test_a_settled_version_is_not_loaded_again(monkeypatch, calls):
    settled = {"run_id": "run-1", "status": "loaded", "loaded_at": dt.datetime(2026, 11, 30, 12, 1), "rows_loaded": 5,
               "rows_rejected": 1, "source_key": "/data/a.csv"}
    looked_up = []
    monkeypatch.setattr(ingest.ledger, "find_loaded", lambda spark, table, uri, version: looked_up.append(
        (table, uri, version)) or settled)
    monkeypatch.setattr(ingest, "run_ingest", fake_run(calls))
    report = ingest.main(None, args())
    assert looked_up == [("`glue_catalog`.`lake`.`entities_ledger`", SRC, "v7")]
    assert calls["runs"] == [] and calls["records"] == []  # nothing read, nothing loaded, no second entry
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (0, 0, 0)
    assert report["already_loaded"] == {"run_id": "run-1", "status": "loaded", "loaded_at": "2026-11-30T12:01:00",
                                        "rows_loaded": 5, "rows_rejected": 1}
    json.dumps(report)  # the report is JSON as written to S3
    assert list(calls["reports"]) == ["s3://art/runs/entities/run-2/ingest.json"]


def test_a_run_is_recorded_after_its_load_with_its_order_and_counts(monkeypatch, calls):
    monkeypatch.setattr(ingest.ledger, "find_loaded", lambda *a: None)
    result = ingest.IngestResult(table="lake.entities", source_uri=SRC, source_version="v7", rows_read=4, rows_loaded=3,
                                 rows_rejected=1, rejects_location=None, rows_changed=0)
    monkeypatch.setattr(ingest, "run_ingest", fake_run(calls, result))
    ingest.main(None, args())
    assert calls["runs"][0]["source_order"] == SourceOrder.from_event("2026-11-30T12:00:00.125Z", "0055AED6DCD90281E5")
    [(table, entry)] = calls["records"]
    assert table == "`glue_catalog`.`lake`.`entities_ledger`"
    assert (entry.status, entry.rows_read, entry.rows_loaded, entry.rows_rejected, entry.rows_changed) == (
        ledger.UNCHANGED, 4, 3, 1, 0)
    assert (entry.source_bucket, entry.source_key, entry.source_version, entry.source_etag, entry.run_id) == (
        "", SRC, "v7", "e7", "run-2")
    assert entry.source_event_time == dt.datetime(2026, 11, 30, 12, 0, 0, 125000)


def test_a_failed_run_is_recorded_as_failed_and_still_fails(monkeypatch, calls):
    monkeypatch.setattr(ingest.ledger, "find_loaded", lambda *a: None)
    monkeypatch.setattr(ingest, "run_ingest", fake_run(calls, fail=ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        ingest.main(None, args(source_sequencer="", source_event_time=""))
    [(_, entry)] = calls["records"]
    assert (entry.status, entry.error, entry.rows_loaded) == (ledger.FAILED, "ValueError: boom", 0)
    assert entry.source_sequencer is None and calls["runs"][0]["source_order"] is None  # unordered load


def test_a_ledger_that_cannot_be_written_does_not_hide_the_run_error(monkeypatch, calls):
    monkeypatch.setattr(ingest.ledger, "find_loaded", lambda *a: None)

    def broken(*a, **k):
        raise RuntimeError("ledger unavailable")
    monkeypatch.setattr(ingest.ledger, "record", broken)
    monkeypatch.setattr(ingest, "run_ingest", fake_run(calls, fail=ValueError("the real error")))
    with pytest.raises(ValueError, match="the real error"):
        ingest.main(None, args())
