"""The run record: the jobs' reports merged with the execution's status (docs/design.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lakepipe.s3util import join_uri

PARTS = ("ingest", "views")
COUNTS = ("rows_read", "rows_loaded", "rows_rejected")


def run_paths(runs_location: str, dataset: str, run_id: str) -> dict[str, str]:
    return {
        "ingest": join_uri(runs_location, dataset, run_id, "ingest.json"),
        "views": join_uri(runs_location, dataset, run_id, "views.json"),
        "record": join_uri(runs_location, dataset, f"{run_id}.json"),
    }


def dataset_name(dataset: Any) -> str:
    if isinstance(dataset, dict) and isinstance(dataset.get("name"), str):
        return dataset["name"]
    if isinstance(dataset, str) and dataset:
        return dataset
    raise ValueError(f"run recorder event has no dataset name: {dataset!r}")


def normalise_error(error: Any) -> dict[str, Any] | None:
    """Step Functions Catch output {"Error", "Cause"}; anything else is wrapped, never lost."""
    if error is None:
        return None
    if isinstance(error, dict) and ("Error" in error or "Cause" in error):
        return {"Error": error.get("Error"), "Cause": error.get("Cause")}
    return {"Error": "Unknown", "Cause": repr(error)}


def build_record(event: dict[str, Any], read_part: Callable[[str], Any]) -> dict[str, Any]:
    """`read_part(uri)` returns the parsed JSON or None; a part it cannot read is None."""
    runs = event["runs_location"]
    name = dataset_name(event.get("dataset"))
    run_id = event["execution"]
    paths = run_paths(runs, name, run_id)
    record: dict[str, Any] = {
        "status": event.get("status"),
        "execution": run_id,
        "dataset": event.get("dataset"),
        "source": event.get("source"),
        "ingest": None,
        "views": None,
        "error": normalise_error(event.get("error")),
    }
    for part in PARTS:
        record[part] = read_part(paths[part])
    record.update(row_counts(record["ingest"]))
    return record


def row_counts(ingest_report: dict[str, Any] | None) -> dict[str, int]:
    """The ingest report's counts; 0 where there is no report (the ingest failed: nothing was loaded)."""
    report = ingest_report or {}
    return {k: int(report.get(k) or 0) for k in COUNTS}
