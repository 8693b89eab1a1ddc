"""Both Lambdas against moto (in-process mock_aws)."""

import hashlib
import importlib
import json
import os
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from lakepipe.naming import execution_name
from lakepipe.spec import load_spec_file

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ARTIFACTS = "lakepipe-test-artifacts"


class Ctx:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:test"
    aws_request_id = "req-1"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def trigger(aws, monkeypatch):
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="pipeline", roleArn=role,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    specs = [load_spec_file(ROOT / "datasets/entities.json").to_dict(), load_spec_file(ROOT / "datasets/regulatory.json").to_dict()]
    boto3.client("s3").create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": REGION})
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("DATASETS_URI", put_specs(json.dumps(specs).encode()))
    import s3_trigger.handler as h
    h = importlib.reload(h)  # fresh client cache inside this mock
    return h, sfn, arn


def put_specs(body: bytes, key_hash: str | None = None) -> str:
    """The specs object as modules/trigger writes it: <prefix>datasets/<sha256 of the content>.json."""
    key = f"lambda/s3-trigger/datasets/{key_hash or hashlib.sha256(body).hexdigest()}.json"
    boto3.client("s3").put_object(Bucket=ARTIFACTS, Key=key, Body=body)
    return f"s3://{ARTIFACTS}/{key}"


def record(key, etag="etag1", version=None, size=42):
    obj = {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag}
    if version:
        obj["versionId"] = version
    return {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "raw"}, "object": obj}}


def executions(sfn, arn):
    return {e["name"]: e for e in sfn.list_executions(stateMachineArn=arn)["executions"]}


def test_many_records_encoded_keys_duplicates_unknown_and_non_csv(trigger, caplog):
    h, sfn, arn = trigger
    event = {"Records": [
        record("incoming/entities/day 1+ü.csv", version="v1"),
        record("incoming/regulatory/FFIEC 031.CSV", etag="e2"),
        record("incoming/entities/day 1+ü.csv", version="v1"),  # duplicate delivery in one event
        record("incoming/unknown/x.csv"),
        # The notifications filter on the dataset prefix only, so any object under it arrives here.
        record("incoming/entities/notes.txt"),
        record("incoming/entities/REPORT.CSV.zip"),
        {"s3": {"bucket": {"name": "raw"}}},  # not an S3 object record
    ]}
    out = h.lambda_handler(event, Ctx())
    assert len(out["started"]) == 2 and len(out["duplicates"]) == 1
    assert [s["key"] for s in out["skipped"]] == ["incoming/unknown/x.csv", "incoming/entities/notes.txt",
                                                  "incoming/entities/REPORT.CSV.zip"]
    assert [r["record_index"] for r in out["rejected"]] == [6]

    ex = executions(sfn, arn)
    name = execution_name("entities", "raw", "incoming/entities/day 1+ü.csv", "v1")
    assert set(ex) == {name, execution_name("regulatory", "raw", "incoming/regulatory/FFIEC 031.CSV", "e2")}
    started = json.loads(sfn.describe_execution(executionArn=ex[name]["executionArn"])["input"])
    assert started["source"] == {"bucket": "raw", "key": "incoming/entities/day 1+ü.csv", "version": "v1", "etag": "etag1", "size": 42,
                                 "sequencer": "", "event_time": ""}
    assert started["dataset"]["name"] == "entities" and started["dataset"]["view_prefix"] == "entity_view_"

    # redelivery of the whole event after the runs finished is a no-op (ExecutionAlreadyExists)
    for e in ex.values():
        sfn.stop_execution(executionArn=e["executionArn"])
    again = h.lambda_handler(event, Ctx())
    assert again["started"] == [] and len(again["duplicates"]) == 3
    assert len(executions(sfn, arn)) == 2

    # the records as the Lambda's JSON formatter writes them to stdout
    logs = [json.loads(h.logger.registered_formatter.format(r)) for r in caplog.records if r.name == "lakepipe-s3-trigger"]
    errors = [entry for entry in logs if entry["level"] == "ERROR"]
    assert [e["record_index"] for e in errors] == [6, 6] and "not an S3 notification record" in errors[0]["message"]
    non_csv = [entry for entry in logs if entry["message"].startswith("skipped: not a CSV object")]
    assert [e["key"] for e in non_csv] == ["incoming/entities/notes.txt", "incoming/entities/REPORT.CSV.zip"] * 2
    assert all(e["level"] == "INFO" and e["dataset"] == "entities" and e["service"] == "lakepipe-s3-trigger"
               for e in non_csv)
    assert any(entry["message"].startswith("skipped: object is outside") for entry in logs)


def test_new_version_of_same_key_starts_a_new_execution(trigger):
    h, sfn, arn = trigger
    h.lambda_handler({"Records": [record("incoming/entities/a.csv", version="v1")]}, Ctx())
    h.lambda_handler({"Records": [record("incoming/entities/a.csv", version="v2")]}, Ctx())
    assert len(executions(sfn, arn)) == 2


def test_specs_are_read_once_per_container_and_again_when_the_uri_changes(trigger, monkeypatch):
    h, sfn, arn = trigger
    first_uri = os.environ["DATASETS_URI"]
    h.lambda_handler({"Records": [record("incoming/entities/a.csv", version="v1")]}, Ctx())
    bucket, key = first_uri.removeprefix("s3://").split("/", 1)
    boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    # the object is gone: later events of this container still decide with the specs read at the start
    h.lambda_handler({"Records": [record("incoming/entities/a.csv", version="v2")]}, Ctx())
    h.lambda_handler({"Records": [record("incoming/regulatory/r.csv", version="v1")]}, Ctx())
    assert len(executions(sfn, arn)) == 3

    # a new deployment (new specs, new content-addressed key) is read at the next event
    renamed = [{**load_spec_file(ROOT / "datasets/entities.json").to_dict(), "raw_prefix": "incoming/ents/"}]
    monkeypatch.setenv("DATASETS_URI", put_specs(json.dumps(renamed).encode()))
    out = h.lambda_handler({"Records": [record("incoming/ents/b.csv"), record("incoming/regulatory/r2.csv")]}, Ctx())
    assert [s["key"] for s in out["started"]] == ["incoming/ents/b.csv"]
    assert [s["key"] for s in out["skipped"]] == ["incoming/regulatory/r2.csv"]


def test_missing_specs_object_fails_the_invocation_naming_the_uri(trigger, monkeypatch):
    h, sfn, arn = trigger
    uri = f"s3://{ARTIFACTS}/lambda/s3-trigger/datasets/{'0' * 64}.json"
    monkeypatch.setenv("DATASETS_URI", uri)
    with pytest.raises(h.DatasetSpecsError, match=f"cannot read the dataset specs {uri}: .*NoSuchKey"):
        h.lambda_handler({"Records": [record("incoming/entities/a.csv")]}, Ctx())
    assert executions(sfn, arn) == {}
    # nothing was cached: once the object is there (e.g. a retry after the apply finished), the event runs
    body = json.dumps([load_spec_file(ROOT / "datasets/entities.json").to_dict()]).encode()
    monkeypatch.setenv("DATASETS_URI", put_specs(body))
    assert len(h.lambda_handler({"Records": [record("incoming/entities/a.csv")]}, Ctx())["started"]) == 1


def test_specs_object_not_matching_the_sha256_in_its_key_fails_naming_the_uri(trigger, monkeypatch):
    h, sfn, arn = trigger
    good = json.dumps([load_spec_file(ROOT / "datasets/entities.json").to_dict()]).encode()
    tampered = good.replace(b"incoming/entities/", b"incoming/other/")
    uri = put_specs(tampered, key_hash=hashlib.sha256(good).hexdigest())
    monkeypatch.setenv("DATASETS_URI", uri)
    with pytest.raises(h.DatasetSpecsError, match=f"dataset specs {uri}: content has sha256 "
                       f"{hashlib.sha256(tampered).hexdigest()}, not the one in its key"):
        h.lambda_handler({"Records": [record("incoming/other/a.csv")]}, Ctx())
    monkeypatch.setenv("DATASETS_URI", f"s3://{ARTIFACTS}/lambda/s3-trigger/datasets/latest.json")
    with pytest.raises(h.DatasetSpecsError, match="datasets/latest.json' is not s3://"):
        h.lambda_handler({"Records": [record("incoming/other/a.csv")]}, Ctx())
    assert executions(sfn, arn) == {}


def test_start_failure_is_raised_after_other_records(trigger, monkeypatch):
    h, _, arn = trigger
    monkeypatch.setenv("STATE_MACHINE_ARN", arn.replace("pipeline", "missing"))
    with pytest.raises(RuntimeError, match="failed to start"):
        h.lambda_handler({"Records": [record("incoming/entities/a.csv"), record("x/y.csv")]}, Ctx())


@pytest.fixture
def recorder(aws, monkeypatch):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="art", CreateBucketConfiguration={"LocationConstraint": REGION})
    monkeypatch.setenv("RUNS_LOCATION", "s3://art/runs/")
    import run_recorder.handler as h
    return importlib.reload(h), s3


def test_recorder_merges_both_reports(recorder):
    h, s3 = recorder
    s3.put_object(Bucket="art", Key="runs/entities/r1/ingest.json", Body=json.dumps({"rows_read": 5}))
    s3.put_object(Bucket="art", Key="runs/entities/r1/views.json", Body=json.dumps({"views": [], "dropped": []}))
    out = h.lambda_handler({"execution": "r1", "status": "SUCCEEDED", "dataset": {"name": "entities"},
                            "source": {"key": "k"}, "error": None}, Ctx())
    assert out["ingest"] == {"rows_read": 5} and out["views"] == {"views": [], "dropped": []}
    stored = json.loads(s3.get_object(Bucket="art", Key="runs/entities/r1.json")["Body"].read())
    assert stored == out and stored["status"] == "SUCCEEDED" and stored["error"] is None


def test_recorder_missing_and_corrupt_parts_are_null(recorder):
    h, s3 = recorder
    s3.put_object(Bucket="art", Key="runs/entities/r2/views.json", Body=b"{not json")
    err = {"Error": "States.TaskFailed", "Cause": "ingest failed"}
    out = h.lambda_handler({"execution": "r2", "status": "FAILED", "dataset": {"name": "entities"},
                            "source": {}, "error": err}, Ctx())
    assert out["ingest"] is None and out["views"] is None and out["error"] == err
    assert json.loads(s3.get_object(Bucket="art", Key="runs/entities/r2.json")["Body"].read())["status"] == "FAILED"


def test_a_throttled_start_execution_is_retried(trigger, monkeypatch):
    """StartExecution's rate limit in a burst: the trigger's client retries ThrottlingException up to 10
    attempts (standard retry mode; botocore's default gives up after 5) instead of failing the record."""
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse

    h, sfn, arn = trigger
    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", waits.append)  # the SDK's backoff, not a test wait

    class Body:
        def stream(self, **_):
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    throttled = []

    def throttle(request, **_):
        if len(throttled) < 6:
            throttled.append(request.url)
            return AWSResponse(request.url, 400, {"x-amzn-RequestId": "r"}, Body())
        return None

    h._client().meta.events.register("before-send.sfn.StartExecution", throttle)
    out = h.lambda_handler({"Records": [record("incoming/entities/a.csv", version="v1")]}, Ctx())
    assert len(throttled) == 6 and len(waits) == 6 and len(out["started"]) == 1 and out["failed"] == []
    assert len(executions(sfn, arn)) == 1
