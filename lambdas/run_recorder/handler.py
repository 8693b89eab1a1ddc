"""Run recorder: merge `<runs>/<dataset>/<run_id>/{ingest,views}.json` with the execution's
status and error into `<runs>/<dataset>/<run_id>.json`, and return the record.

Env: RUNS_LOCATION (`s3://<artifacts>/runs/`). Called by the state machine with
{"execution", "status", "dataset", "source", "error"}. A report that is missing (the job
failed before writing it) or unreadable is null in the record; it never fails the call,
because the record of a failed run matters most.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from lakepipe.recorder import build_record, dataset_name, run_paths
from lakepipe.s3util import get_json, put_json

logger = Logger(service="lakepipe-run-recorder")
_s3 = None


def _client():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def _reader(uri: str) -> Any:
    try:
        part = get_json(_client(), uri)
    except Exception:
        logger.exception("could not read report", extra={"uri": uri})
        return None
    if part is None:
        logger.info("report not found", extra={"uri": uri})
    return part


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runs = os.environ["RUNS_LOCATION"]
    record = build_record({**event, "runs_location": runs}, _reader)
    uri = run_paths(runs, dataset_name(event.get("dataset")), event["execution"])["record"]
    put_json(_client(), uri, record)
    logger.info(
        "run recorded",
        extra={"uri": uri, "status": record["status"], "has_ingest": record["ingest"] is not None,
               "has_views": record["views"] is not None},
    )
    return record
