"""S3 ObjectCreated -> Step Functions StartExecution (one execution per object version).

Env: STATE_MACHINE_ARN, DATASETS_URI (s3://<artifacts bucket>/<prefix>datasets/<sha256>.json: the JSON
list of dataset specs, defaults applied, written by Terraform; read once per container and checked against
the sha256 in its key; an object that cannot be read or does not match fails the invocation, naming the URI).
A duplicate delivery of the same object version maps to the same execution name, so
StartExecution answers ExecutionAlreadyExists, which counts as success. Records outside
every dataset prefix and non-CSV keys (any letter case of .csv counts) are logged and skipped;
records that are not S3 object records are rejected with an error log line.
(StartExecution itself is idempotent for a still-running execution with the same name
and input: it answers with the original ARN.) Any other failure is raised after all records were tried, so the asynchronous invocation
is retried and the records that already started are no-ops the second time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lakepipe.events import decide
from lakepipe.s3util import split_s3_uri
from lakepipe.spec import SpecError, load_specs_list

logger = Logger(service="lakepipe-s3-trigger")
_sfn = None
_s3 = None
_specs_cache: tuple[str, list] | None = None


class DatasetSpecsError(RuntimeError):
    """The specs object named by DATASETS_URI cannot be used; the message names the URI."""


# A burst of uploads meets StartExecution's rate limit: the SDK's standard retry mode backs off and retries
# throttling (up to 10 attempts); records that still fail make the invocation fail, Lambda retries the
# asynchronous event twice, then the event goes to the dead-letter queue (`make replay` re-drives it).
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


def _client():
    global _sfn
    if _sfn is None:
        _sfn = boto3.client("stepfunctions", config=_RETRIES)
    return _sfn


def _s3_client():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def _read_specs(uri: str) -> list:
    try:
        bucket, key = split_s3_uri(uri)
    except ValueError:
        bucket, key = "", ""
    expected = key.rsplit("/", 1)[-1].removesuffix(".json")
    if not uri.startswith("s3://") or not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise DatasetSpecsError(f"DATASETS_URI {uri!r} is not s3://<bucket>/<prefix>datasets/<sha256>.json")
    try:
        body = _s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except (BotoCoreError, ClientError) as e:
        raise DatasetSpecsError(f"cannot read the dataset specs {uri}: {e}") from e
    actual = hashlib.sha256(body).hexdigest()
    if actual != expected:
        raise DatasetSpecsError(f"dataset specs {uri}: content has sha256 {actual}, not the one in its key")
    try:
        return load_specs_list(body.decode("utf-8"), source=uri)
    except (UnicodeDecodeError, SpecError) as e:
        raise DatasetSpecsError(f"dataset specs {uri}: {e}") from e


def _specs() -> list:
    """Once per container: the URI changes whenever the specs do (content-addressed key)."""
    global _specs_cache
    uri = os.environ["DATASETS_URI"]
    if _specs_cache is None or _specs_cache[0] != uri:
        _specs_cache = (uri, _read_specs(uri))
    return _specs_cache[1]


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state_machine_arn = os.environ["STATE_MACHINE_ARN"]
    specs = _specs()
    records = event.get("Records") or []
    if not records:
        logger.info("event has no records (S3 test event?)", extra={"event_keys": sorted(event)})
    summary: dict[str, list] = {"started": [], "duplicates": [], "skipped": [], "rejected": [], "failed": []}
    seen: set[str] = set()
    for index, record in enumerate(records):
        d = decide(record, specs)
        where = {"record_index": index}
        if d.obj is not None:
            where.update(bucket=d.obj.bucket, key=d.obj.key, version=d.obj.version, size=d.obj.size,
                         sequencer=d.obj.sequencer, event_time=d.obj.event_time)
        if d.dataset is not None:
            where["dataset"] = d.dataset.name
        if d.action == "skip":
            logger.info(f"skipped: {d.reason}", extra=where)
            summary["skipped"].append({**where, "reason": d.reason})
            continue
        if d.action == "reject":
            logger.error(f"rejected: {d.reason}", extra=where)
            summary["rejected"].append({**where, "reason": d.reason})
            continue
        where["execution_name"] = d.execution_name
        if d.execution_name in seen:
            logger.info("duplicate record in this event", extra=where)
            summary["duplicates"].append(where)
            continue
        seen.add(d.execution_name)
        try:
            resp = _client().start_execution(
                stateMachineArn=state_machine_arn,
                name=d.execution_name,
                input=json.dumps(d.execution_input, ensure_ascii=False),
            )
        except _client().exceptions.ExecutionAlreadyExists:
            logger.info("duplicate delivery: execution already exists", extra=where)
            summary["duplicates"].append(where)
            continue
        except Exception as e:
            logger.exception("StartExecution failed", extra=where)
            summary["failed"].append({**where, "error": f"{type(e).__name__}: {e}"})
            continue
        logger.info("started execution", extra={**where, "execution_arn": resp["executionArn"]})
        summary["started"].append({**where, "execution_arn": resp["executionArn"]})
    if summary["failed"]:
        raise RuntimeError(f"{len(summary['failed'])} record(s) failed to start: {summary['failed']}")
    return summary
