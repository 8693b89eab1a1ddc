"""The deployed stack really works through the endpoint: `aws s3 cp` of the sample -> S3 notification ->
trigger Lambda -> Step Functions -> Glue ingest + view jobs -> run recorder, and the execution SUCCEEDS.
"""

from __future__ import annotations

import json
import time

import pytest

from lakepipe.naming import execution_name

from .conftest import REPO, DeployedStack, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "sample_data" / "entities_sample.csv"
EXECUTION_DEADLINE_S = 900  # two Spark jobs on a shared 2-core machine


def test_second_plan_is_empty(deployed_stack: DeployedStack):
    code, out = deployed_stack.plan_exit_code()
    assert code == 0, f"a second plan right after apply must change nothing (exit {code}):\n{out[-8000:]}"


def test_stack_outputs_point_at_the_endpoint(deployed_stack: DeployedStack):
    out = deployed_stack.outputs
    assert set(out["datasets"]) >= {"entities"}
    assert out["dataset_raw_prefixes"]["entities"] == "incoming/entities/"
    assert out["trigger_dead_letter_queue_url"].startswith(deployed_stack.endpoint_url)
    sfn = deployed_stack.client("stepfunctions")
    assert sfn.describe_state_machine(stateMachineArn=out["state_machine_arn"])["status"] == "ACTIVE"


def _failure_report(stack: DeployedStack, arn: str) -> str:
    sfn = stack.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    failed = [e for e in events if "Failed" in e["type"] or "TimedOut" in e["type"] or "Aborted" in e["type"]]
    lines = [json.dumps(e, default=str)[:3000] for e in failed]
    return "\n".join(lines) + "\n--- endpoint log ---\n" + stack.endpoint_log(150)


def test_sample_upload_runs_the_pipeline_to_success(deployed_stack: DeployedStack):
    stack, out = deployed_stack, deployed_stack.outputs
    bucket = out["bucket_names"]["raw"]
    key = out["dataset_raw_prefixes"]["entities"] + SAMPLE.name

    started = time.monotonic()
    stack.aws("s3", "cp", str(SAMPLE), f"s3://{bucket}/{key}")
    head = json.loads(stack.aws("s3api", "head-object", "--bucket", bucket, "--key", key).stdout)
    assert head.get("VersionId"), "the raw bucket is versioned"
    name = execution_name("entities", bucket, key, head["VersionId"])
    arn = out["state_machine_arn"].replace(":stateMachine:", ":execution:") + f":{name}"

    sfn = stack.client("stepfunctions")

    def finished():
        try:
            desc = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return desc if desc["status"] != "RUNNING" else None

    desc = wait_for(finished, EXECUTION_DEADLINE_S, f"execution {name} to finish", interval=1.0)
    elapsed = time.monotonic() - started
    print(f"\n[e2e] execution {name}: {desc['status']} {elapsed:.1f}s after `aws s3 cp`")
    assert desc["status"] == "SUCCEEDED", _failure_report(stack, arn)

    # The run record the state machine's recorder wrote.
    runs = out["runs_location"]
    record_uri = f"{runs}entities/{name}.json"
    record = json.loads(stack.aws("s3", "cp", record_uri, "-").stdout)
    assert record["status"] == "SUCCEEDED" and record["error"] is None, record
    assert record["source"]["version"] == head["VersionId"]
    ingest = record["ingest"]
    assert ingest["rows_read"] > 0 and ingest["rows_loaded"] > 0, ingest
    assert record["views"]["views"], record["views"]
