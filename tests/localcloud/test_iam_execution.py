"""Lambda functions, Glue job runs and Step Functions executions run as the execution roles they were given.

The endpoint's Glue runner is replaced by `identity_runner` below (it reports who it signs as, and what one
S3 read as that identity gives); the real runner's use of the credentials runs in the e2e suite.
"""

from __future__ import annotations

import json
from collections import namedtuple
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import REGION, make_zip, start_endpoint, wait_for

ACCOUNT = "123456789012"
GlueRunResult = namedtuple("GlueRunResult", "state error_message started_on completed_on")


def identity_runner(script_location, arguments, *, endpoint_url, state_dir, timeout_s, log_path,
                    role_arn=None, credentials=None):
    """LOCALCLOUD_GLUE_RUNNER for this module: GetCallerIdentity and one S3 read with the run's credentials."""
    started = datetime.now(UTC)
    keys = {"aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": credentials["AWS_SESSION_TOKEN"]}
    out = {"role_arn": role_arn}
    out["arn"] = boto3.client("sts", region_name=REGION, endpoint_url=endpoint_url, **keys).get_caller_identity()["Arn"]
    try:
        boto3.client("s3", region_name=REGION, endpoint_url=endpoint_url, **keys).get_object(
            Bucket=arguments["--bucket"], Key=arguments["--key"])
        out["read"] = "ok"
    except ClientError as e:
        out["read"] = e.response["Error"]["Message"]
    Path(state_dir, f"identity-{arguments['--key'].replace('/', '_')}.json").write_text(json.dumps(out))
    log_path.write_text("identity runner\n")
    return GlueRunResult("SUCCEEDED", None, started, datetime.now(UTC))


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    endpoint, stop = start_endpoint(tmp_path_factory.mktemp("iam-exec"), {
        "LOCALCLOUD_GLUE_RUNNER": "tests.localcloud.test_iam_execution:identity_runner"})
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket="iam-exec")
    for key in ("open/a", "secret/a"):
        s3.put_object(Bucket="iam-exec", Key=key, Body=b"x")
    yield endpoint
    stop()


def _role(ep, name: str, services: list[str], statements: list[dict], condition: dict | None = None) -> str:
    trust = {"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}
    if condition:
        trust["Condition"] = condition
    iam = ep.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [trust]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    return arn


READ_OPEN = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::iam-exec/open/*"}


def _denied_read(session_arn: str, key: str) -> str:
    return (f"User: {session_arn} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::iam-exec/"
            f"{key} because no identity-based policy allows the s3:GetObject action")


HANDLER = """
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    out = {"arn": boto3.client("sts").get_caller_identity()["Arn"]}
    for key in ("open/a", "secret/a"):
        try:
            s3.get_object(Bucket="iam-exec", Key=key)
            out[key] = "ok"
        except Exception as e:
            out[key] = e.response["Error"]["Message"]
    return out
"""


def test_lambda_handler_runs_as_its_execution_role(ep):
    role = _role(ep, "fn-reader", ["lambda.amazonaws.com"], [READ_OPEN])
    ep.client("lambda").create_function(FunctionName="whoami", Runtime="python3.11", Role=role, Handler="f.handler",
                                        Timeout=30, Code={"ZipFile": make_zip({"f.py": HANDLER})})
    out = json.loads(ep.client("lambda").invoke(FunctionName="whoami", Payload=b"{}")["Payload"].read())
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-reader/whoami"
    assert out == {"arn": session, "open/a": "ok", "secret/a": _denied_read(session, "secret/a")}


def test_create_function_refuses_a_role_lambda_cannot_assume(ep):
    role = _role(ep, "glue-only", ["glue.amazonaws.com"], [READ_OPEN])
    with pytest.raises(ClientError) as info:
        ep.client("lambda").create_function(FunctionName="nope", Runtime="python3.11", Role=role, Handler="f.handler",
                                            Code={"ZipFile": make_zip({"f.py": HANDLER})})
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert info.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."


def _final_run(glue, job: str, run_id: str) -> dict:
    def done():
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        return run if run["JobRunState"] not in ("STARTING", "RUNNING") else None
    return wait_for(done, 60, f"run {run_id} of {job}")


def test_glue_job_runs_as_its_role(ep):
    role = _role(ep, "job-reader", ["glue.amazonaws.com"], [READ_OPEN],
                 {"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    glue = ep.client("glue")
    glue.create_job(Name="whoami-job", Role=role, Command={"Name": "glueetl", "ScriptLocation": "s3://iam-exec/j.py"})
    run_id = glue.start_job_run(JobName="whoami-job", Arguments={"--bucket": "iam-exec", "--key": "secret/a"})[
        "JobRunId"]
    assert _final_run(glue, "whoami-job", run_id)["JobRunState"] == "SUCCEEDED"
    state = ep.home / "state" / "glue" / "identity-secret_a.json"
    out = json.loads(state.read_text())
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/job-reader/GlueJobRunnerSession"
    assert out == {"role_arn": role, "arn": session, "read": _denied_read(session, "secret/a")}


def test_glue_run_fails_when_glue_cannot_assume_the_role(ep):
    role = _role(ep, "not-for-glue", ["lambda.amazonaws.com"], [READ_OPEN])
    glue = ep.client("glue")
    glue.create_job(Name="wrong-trust", Role=role, Command={"Name": "glueetl", "ScriptLocation": "s3://iam-exec/j.py"})
    run_id = glue.start_job_run(JobName="wrong-trust", Arguments={"--bucket": "iam-exec", "--key": "open/a"})["JobRunId"]
    run = _final_run(glue, "wrong-trust", run_id)
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == (f"Glue could not assume the job's role: glue.amazonaws.com is not allowed to assume "
                                   f"{role}: its trust policy does not allow sts:AssumeRole by the service principal "
                                   "glue.amazonaws.com")


def test_state_machine_calls_services_as_its_role(ep):
    fn_role = _role(ep, "fn-plain", ["lambda.amazonaws.com"], [READ_OPEN])
    lam = ep.client("lambda")
    code = {"ZipFile": make_zip({"f.py": "def handler(event, context):\n    return {'n': event.get('n', 0) + 1}\n"})}
    arns = [lam.create_function(FunctionName=n, Runtime="python3.11", Role=fn_role, Handler="f.handler", Code=code)[
        "FunctionArn"] for n in ("step-a", "step-b")]
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:as-role"
    # the trust conditions see the state machine as aws:SourceArn, as on AWS
    sm_role = _role(ep, "sm-role", ["states.amazonaws.com"],
                    [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arns[0]}],
                    {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": machine_arn}})
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
              "Parameters": {"FunctionName": arns[0], "Payload.$": "$"}, "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
              "Parameters": {"FunctionName": arns[1], "Payload.$": "$"}, "End": True}}}
    sfn = ep.client("stepfunctions")
    assert sfn.create_state_machine(name="as-role", definition=json.dumps(definition), roleArn=sm_role)[
        "stateMachineArn"] == machine_arn
    execution = sfn.start_execution(stateMachineArn=machine_arn, input="{}")["executionArn"]

    def ended():
        d = sfn.describe_execution(executionArn=execution)
        return d if d["status"] != "RUNNING" else None

    assert wait_for(ended, 60, "the execution")["status"] == "FAILED"
    events = sfn.get_execution_history(executionArn=execution)["events"]
    succeeded = [e for e in events if e["type"] == "TaskSucceeded"]
    assert len(succeeded) == 1 and json.loads(succeeded[0]["taskSucceededEventDetails"]["output"])["Payload"] == {"n": 1}
    failure = next(e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed")
    assert (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/sm-role/StepFunctions is not authorized to perform: "
            f"lambda:InvokeFunction on resource: {arns[1]} because no identity-based policy allows the "
            "lambda:InvokeFunction action") in failure["cause"], failure
