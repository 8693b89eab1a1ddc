from lakepipe.recorder import build_record, normalise_error, run_paths


def test_paths_follow_the_contract():
    p = run_paths("s3://art/runs/", "entities", "entities-abc")
    assert p == {
        "ingest": "s3://art/runs/entities/entities-abc/ingest.json",
        "views": "s3://art/runs/entities/entities-abc/views.json",
        "record": "s3://art/runs/entities/entities-abc.json",
    }


def test_merge_with_missing_parts_is_null():
    store = {"s3://art/runs/entities/r1/ingest.json": {"rows_read": 3}}
    rec = build_record(
        {"runs_location": "s3://art/runs", "execution": "r1", "status": "FAILED",
         "dataset": {"name": "entities"}, "source": {"key": "k"},
         "error": {"Error": "States.TaskFailed", "Cause": "{\"ErrorMessage\": \"boom\"}"}},
        store.get,
    )
    assert rec == {
        "status": "FAILED", "execution": "r1", "dataset": {"name": "entities"}, "source": {"key": "k"},
        "ingest": {"rows_read": 3}, "views": None,
        "error": {"Error": "States.TaskFailed", "Cause": "{\"ErrorMessage\": \"boom\"}"},
        "rows_read": 3, "rows_loaded": 0, "rows_rejected": 0,
    }


def test_nothing_loaded_counts_zero_not_null():
    """A run whose ingest failed (a missing column, an empty file) has no ingest report: its counts are 0."""
    rec = build_record({"runs_location": "s3://art/runs", "execution": "r2", "status": "FAILED",
                        "dataset": {"name": "entities"}, "error": {"Error": "States.TaskFailed", "Cause": "x"}},
                       lambda uri: None)
    assert (rec["ingest"], rec["rows_read"], rec["rows_loaded"], rec["rows_rejected"]) == (None, 0, 0, 0)


def test_error_shapes():
    assert normalise_error(None) is None
    assert normalise_error("weird") == {"Error": "Unknown", "Cause": "'weird'"}
