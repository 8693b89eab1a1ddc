"""A state machine chaining Lambda -> Glue (.sync) -> Glue whose Catch fires when the second job fails.

Runs against a fake Glue runner (always) and the real Glue runner (when localcloud/glue/runner.py exists).
"""

from __future__ import annotations

import json

import pytest

from .conftest import create_role, make_zip, start_endpoint, wait_for

pytestmark = pytest.mark.localcloud

PREPARE = '''
def handler(event, context):
    return {"greeting": "hello " + event["who"], "execution": event["execution"]}
'''

GOOD_SCRIPT = '''
import sys
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["run_id", "uri"])
print("good job", args["run_id"], args["uri"])
'''

BAD_SCRIPT = '''
raise RuntimeError("second job exploded: partition 7 is corrupt")
'''

def definition(fn_arn: str, topic_arn: str) -> str:
    glue_task = lambda job, result: {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": job, "Arguments": {
            "--spec.$": "States.JsonToString($.dataset)",
            "--uri.$": "States.Format('s3://{}/{}', $.bucket, $.key)",
            "--run_id.$": "$$.Execution.Name"}},
        "ResultSelector": {"job_run_id.$": "$.Id", "state.$": "$.JobRunState"},
        "ResultPath": f"$.{result}",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify"}],
    }
    return json.dumps({
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": fn_arn,
                                       "Payload": {"who.$": "$.who", "execution.$": "$$.Execution.Name"}},
                        "ResultSelector": {"prepared.$": "$.Payload", "status.$": "$.StatusCode"},
                        "ResultPath": "$.prep", "Next": "First"},
            "First": {**glue_task("first-job", "first"), "Next": "Second"},
            "Second": {**glue_task("second-job", "second"), "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                       "Parameters": {"TopicArn": topic_arn, "Subject": "run failed",
                                      "Message.$": "States.JsonToString($)"},
                       "ResultPath": None, "Next": "Failed"},
            "Failed": {"Type": "Fail", "Error": "PipelineFailed", "Cause": "a job failed"},
        },
    })


def run_chain(ep, first_job: dict, second_job: dict):
    lam, glue, sfn, sns, sqs = (ep.client(s) for s in ("lambda", "glue", "stepfunctions", "sns", "sqs"))
    role = create_role(ep)
    fn_arn = lam.create_function(FunctionName="prepare", Runtime="python3.11", Role=role, Handler="p.handler",
                                 Code={"ZipFile": make_zip({"p.py": PREPARE})}, Timeout=30)["FunctionArn"]
    glue.create_job(Name="first-job", Role=role, GlueVersion="5.0", **first_job)
    glue.create_job(Name="second-job", Role=role, GlueVersion="5.0", **second_job)
    topic = sns.create_topic(Name="failures")["TopicArn"]
    q = sqs.create_queue(QueueName="failures")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    assert sfn.validate_state_machine_definition(definition=definition(fn_arn, topic))["result"] == "OK"
    sm = sfn.create_state_machine(name="chain", definition=definition(fn_arn, topic), roleArn=role)[
        "stateMachineArn"]
    assert sfn.list_state_machine_versions(stateMachineArn=sm)["stateMachineVersions"] == []
    ex = sfn.start_execution(stateMachineArn=sm, name="run-0001", input=json.dumps(
        {"who": "lake", "dataset": {"name": "d", "n": 1}, "bucket": "raw", "key": "incoming/a.csv"}))["executionArn"]

    def finished():
        d = sfn.describe_execution(executionArn=ex)
        return d if d["status"] != "RUNNING" else None

    desc = wait_for(finished, 300, "the execution to finish", interval=0.5)
    events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
    msgs = wait_for(lambda: sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1).get("Messages"), 30,
                    "the SNS failure notification")
    return desc, events, json.loads(msgs[0]["Body"])


def _assert_chain(desc, events, notified, expected_error_text):
    assert desc["status"] == "FAILED"
    assert desc["error"] == "PipelineFailed"
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert len(failed) == 1, failed
    details = failed[0]["taskFailedEventDetails"]
    assert details["error"] == "States.TaskFailed"
    assert details["resource"] == "startJobRun.sync" and details["resourceType"] == "glue"
    cause = json.loads(details["cause"])
    assert cause["JobName"] == "second-job"
    assert cause["JobRunState"] == "FAILED"
    assert expected_error_text in cause["ErrorMessage"]
    # The Lambda ran for real, ResultSelector/States.* and $$.Execution.Name were evaluated.
    assert notified["prep"] == {"prepared": {"greeting": "hello lake", "execution": "run-0001"}, "status": 200}
    assert notified["first"]["state"] == "SUCCEEDED"
    assert notified["first"]["job_run_id"].startswith("jr_")
    assert notified["error"]["Error"] == "States.TaskFailed"
    assert expected_error_text in json.loads(notified["error"]["Cause"])["ErrorMessage"]


def test_validate_state_machine_definition_reports_errors(endpoint):
    sfn = endpoint.client("stepfunctions")
    bad = sfn.validate_state_machine_definition(definition=json.dumps({"StartAt": "Nope", "States": {}}))
    assert bad["result"] == "FAIL" and bad["diagnostics"][0]["severity"] == "ERROR"
    good = sfn.validate_state_machine_definition(definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}))
    assert good == {**good, "result": "OK", "diagnostics": []}


def test_chain_with_fake_runner(tmp_path):
    ep, stop = start_endpoint(tmp_path, {"LOCALCLOUD_GLUE_RUNNER": "fake_glue_runner:run_glue_script"})
    try:
        cmd = {"Name": "glueetl", "ScriptLocation": "s3://scripts/x.py"}
        desc, events, notified = run_chain(
            ep, {"Command": cmd},
            {"Command": cmd, "DefaultArguments": {"--fake_outcome": "fail:boom in job two"}})
        _assert_chain(desc, events, notified, "boom in job two")
        calls = [json.loads(x) for x in (ep.home / "state" / "glue" / "fake_calls.jsonl").read_text().splitlines()]
        assert calls[0]["arguments"] == {"--spec": '{"name":"d","n":1}', "--uri": "s3://raw/incoming/a.csv",
                                         "--run_id": "run-0001"}
    finally:
        stop()


@pytest.mark.spark
def test_chain_with_real_glue_runner(tmp_path):
    ep, stop = start_endpoint(tmp_path)
    try:
        s3 = ep.client("s3")
        s3.create_bucket(Bucket="scripts")
        s3.put_object(Bucket="scripts", Key="good.py", Body=GOOD_SCRIPT.encode())
        s3.put_object(Bucket="scripts", Key="bad.py", Body=BAD_SCRIPT.encode())
        desc, events, notified = run_chain(
            ep, {"Command": {"Name": "glueetl", "ScriptLocation": "s3://scripts/good.py", "PythonVersion": "3"}},
            {"Command": {"Name": "glueetl", "ScriptLocation": "s3://scripts/bad.py", "PythonVersion": "3"}})
        _assert_chain(desc, events, notified, "second job exploded: partition 7 is corrupt")
    finally:
        stop()


FLAKY = '''
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    n = int(s3.get_object(Bucket="sfn-state", Key="count")["Body"].read()) + 1
    s3.put_object(Bucket="sfn-state", Key="count", Body=str(n).encode())
    if n < event["succeed_on"]:
        raise ValueError(f"attempt {n} failed")
    return {"attempts": n}
'''


@pytest.mark.parametrize("succeed_on, expected", [(2, "SUCCEEDED"), (9, "CAUGHT")])
def test_lambda_task_retry_and_catch(endpoint, succeed_on, expected):
    lam, sfn, s3 = endpoint.client("lambda"), endpoint.client("stepfunctions"), endpoint.client("s3")
    role = create_role(endpoint)
    _bucket(s3, "sfn-state")
    s3.put_object(Bucket="sfn-state", Key="count", Body=b"0")
    name = f"flaky{succeed_on}"
    arn = lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="f.handler", Timeout=30,
                              Code={"ZipFile": make_zip({"f.py": FLAKY})})["FunctionArn"]
    sm = sfn.create_state_machine(name=f"retry{succeed_on}", roleArn=role, definition=json.dumps({
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": arn, "Payload": {"succeed_on": succeed_on}},
                     "OutputPath": "$.Payload",
                     "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 1, "MaxAttempts": 2,
                                "BackoffRate": 1}],
                     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                     "End": True},
            "Caught": {"Type": "Pass", "Result": "CAUGHT", "ResultPath": "$.outcome", "End": True},
        }}))["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
    desc = wait_for(lambda: (d := sfn.describe_execution(executionArn=ex))["status"] != "RUNNING" and d, 60,
                    "the execution")
    assert desc["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=ex)["events"]
    failures = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    output = json.loads(desc["output"])
    if expected == "SUCCEEDED":
        assert output == {"attempts": 2}
        assert len(failures) == 1
    else:
        assert output["outcome"] == "CAUGHT"
        assert len(failures) == 3  # first try + 2 retries
        assert output["error"]["Error"] == "ValueError"
        assert json.loads(output["error"]["Cause"])["errorMessage"] == "attempt 3 failed"
    assert failures[0]["error"] == "ValueError"
    assert json.loads(failures[0]["cause"])["errorMessage"] == "attempt 1 failed"


def _bucket(s3, name):
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    return True


def test_glue_capacity_errors_are_retried_until_a_slot_frees(tmp_path):
    """Several executions, one Glue slot (MaxConcurrentRuns 1): StartJobRun answers ConcurrentRunsExceeded,
    the Task's Retry waits and tries again, and every execution ends SUCCEEDED (no run is lost to the limit)."""
    ep, stop = start_endpoint(tmp_path, {"LOCALCLOUD_GLUE_RUNNER": "fake_glue_runner:run_glue_script"})
    try:
        glue, sfn = ep.client("glue"), ep.client("stepfunctions")
        role = create_role(ep)
        glue.create_job(Name="slow-job", Role=role, Command={"Name": "glueetl", "ScriptLocation": "s3://s/x.py"},
                        DefaultArguments={"--fake_sleep": "1"}, ExecutionProperty={"MaxConcurrentRuns": 1})
        machine = sfn.create_state_machine(name="capacity", roleArn=role, definition=json.dumps({
            "StartAt": "Run", "States": {"Run": {
                "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": "slow-job"}, "ResultSelector": {"state.$": "$.JobRunState"},
                "Retry": [{"ErrorEquals": ["Glue.ConcurrentRunsExceededException"], "IntervalSeconds": 1,
                           "BackoffRate": 1.5, "MaxAttempts": 40, "MaxDelaySeconds": 2, "JitterStrategy": "FULL"}],
                "End": True}}}))["stateMachineArn"]
        arns = [sfn.start_execution(stateMachineArn=machine, name=f"e{i}")["executionArn"] for i in range(4)]

        def done():
            descs = [sfn.describe_execution(executionArn=a) for a in arns]
            return descs if all(d["status"] != "RUNNING" for d in descs) else None

        descs = wait_for(done, 120, "the executions to finish", interval=0.5)
        assert [d["status"] for d in descs] == ["SUCCEEDED"] * 4, [
            (d["status"], d.get("error"), d.get("cause")) for d in descs]
        retried = sum(1 for a in arns for ev in sfn.get_execution_history(executionArn=a)["events"]
                      if ev["type"] == "TaskFailed")
        assert retried >= 1, "the slot limit was hit and retried"
    finally:
        stop()
