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
    }


def test_error_shapes():
    assert normalise_error(None) is None
    assert normalise_error("weird") == {"Error": "Unknown", "Cause": "'weird'"}
