"""Lambda handlers really run: direct Invoke, errors, timeouts, S3 notifications, async failure -> DLQ."""

from __future__ import annotations

import json

import pytest

from .conftest import create_role, make_zip, wait_for

pytestmark = pytest.mark.localcloud

HANDLER = '''
import os, time
import bundled_dep

def handler(event, context):
    if event.get("fail"):
        raise ValueError("boom: " + event["fail"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"echo": event, "dep": bundled_dep.VALUE, "color": os.environ.get("COLOR"),
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "function": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis()}
'''

COPY_HANDLER = '''
import urllib.parse
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket="lc-out", Key="copied/" + key, Body=body.upper())
    return "ok"
'''


@pytest.fixture(scope="module")
def fn(endpoint):
    lam = endpoint.client("lambda")
    role = create_role(endpoint)
    lam.create_function(
        FunctionName="echo", Runtime="python3.11", Role=role, Handler="app.handler", Timeout=2,
        Code={"ZipFile": make_zip({"app.py": HANDLER, "bundled_dep.py": "VALUE = 'from-zip'\n"})},
        Environment={"Variables": {"COLOR": "blue"}},
    )
    return "echo"


def test_invoke_runs_the_handler_with_env_and_bundled_deps(endpoint, fn):
    resp = endpoint.client("lambda").invoke(FunctionName=fn, Payload=json.dumps({"a": 1}), LogType="Tail")
    assert "FunctionError" not in resp
    out = json.loads(resp["Payload"].read())
    assert out["echo"] == {"a": 1}
    assert out["dep"] == "from-zip"
    assert out["color"] == "blue"
    assert out["endpoint"] == endpoint.url
    assert out["function"] == "echo"
    assert 0 < out["remaining_ms"] <= 2000
    assert "START RequestId" in __import__("base64").b64decode(resp["LogResult"]).decode()


def test_exception_is_an_unhandled_function_error(endpoint, fn):
    resp = endpoint.client("lambda").invoke(FunctionName=fn, Payload=json.dumps({"fail": "bad row"}))
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(resp["Payload"].read())
    assert err["errorType"] == "ValueError"
    assert err["errorMessage"] == "boom: bad row"
    assert any("raise ValueError" in line for line in err["stackTrace"])
    assert not any("lambda_bootstrap" in line for line in err["stackTrace"])


def test_timeout_is_enforced(endpoint, fn):
    resp = endpoint.client("lambda").invoke(FunctionName=fn, Payload=json.dumps({"sleep": 10}))
    assert resp["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in json.loads(resp["Payload"].read())["errorMessage"]


def test_s3_notification_runs_the_function(endpoint):
    s3, lam = endpoint.client("s3"), endpoint.client("lambda")
    role = create_role(endpoint)
    arn = lam.create_function(
        FunctionName="copier", Runtime="python3.11", Role=role, Handler="copier.handler", Timeout=30,
        Code={"ZipFile": make_zip({"copier.py": COPY_HANDLER})},
    )["FunctionArn"]
    s3.create_bucket(Bucket="lc-in")
    s3.create_bucket(Bucket="lc-out")
    s3.put_bucket_notification_configuration(
        Bucket="lc-in",
        NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]},
    )
    s3.put_object(Bucket="lc-in", Key="incoming/a b.csv", Body=b"id,name\n1,x\n")
    s3.put_object(Bucket="lc-in", Key="other/ignored.csv", Body=b"nope")

    def copied():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lc-out").get("Contents", [])]
        return keys if "copied/incoming/a b.csv" in keys else None

    keys = wait_for(copied, 30, "the Lambda's copy in lc-out")
    assert keys == ["copied/incoming/a b.csv"]
    body = s3.get_object(Bucket="lc-out", Key="copied/incoming/a b.csv")["Body"].read()
    assert body == b"ID,NAME\n1,X\n"


def test_async_failure_goes_to_the_dead_letter_queue(endpoint, fn):
    sqs, lam = endpoint.client("sqs"), endpoint.client("lambda")
    url = sqs.create_queue(QueueName="echo-dlq")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.update_function_configuration(FunctionName=fn, DeadLetterConfig={"TargetArn": qarn})
    assert lam.get_function_configuration(FunctionName=fn)["DeadLetterConfig"] == {"TargetArn": qarn}
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=0)
    resp = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"fail": "async"}))
    assert resp["StatusCode"] == 202

    def received():
        msgs = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1).get("Messages")
        return msgs

    msgs = wait_for(received, 30, "the failed event in the DLQ")
    assert json.loads(msgs[0]["Body"]) == {"fail": "async"}
    assert msgs[0]["MessageAttributes"]["ErrorMessage"]["StringValue"] == "boom: async"
    assert "boom: async" in endpoint.log()
