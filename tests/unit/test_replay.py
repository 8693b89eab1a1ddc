"""`make replay` (lakepipe/replay.py): the trigger's DLQ is re-driven through the trigger function and emptied
only where that succeeded; failed executions get one replay each, never a second while one succeeded or runs.
SQS and Step Functions are moto; the trigger function is a recording fake (moto runs Lambdas in Docker)."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from moto import mock_aws

from lakepipe.replay import MAX_REPLAYS, ReplayReport, replay_dlq, replay_failed_executions, replay_name

REGION = "us-east-1"
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


class FakeTrigger:
    def __init__(self, fail_keys=()):
        self.events, self.fail_keys = [], set(fail_keys)

    def invoke(self, FunctionName, InvocationType, Payload):
        event = json.loads(Payload)
        self.events.append(event)
        key = event["Records"][0]["s3"]["object"]["key"]
        if key in self.fail_keys:
            return {"FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorMessage": "still throttled"}')}
        return {"Payload": io.BytesIO(b"{}")}


def s3_event(key: str) -> str:
    return json.dumps({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "raw"},
                                                                   "object": {"key": key, "eTag": "e"}}}]})


@pytest.fixture
def aws():
    with mock_aws():
        yield {s: boto3.client(s, region_name=REGION) for s in ("sqs", "stepfunctions")}


def test_dlq_messages_are_replayed_through_the_trigger_and_kept_when_it_fails_again(aws):
    sqs = aws["sqs"]
    url = sqs.create_queue(QueueName="trigger-dlq")["QueueUrl"]
    for key in ("incoming/a.csv", "incoming/b.csv", "incoming/c.csv"):
        sqs.send_message(QueueUrl=url, MessageBody=s3_event(key))
    trigger, report = FakeTrigger(fail_keys={"incoming/b.csv"}), ReplayReport()
    replay_dlq(sqs, trigger, queue_url=url, function_name="trigger", report=report)
    assert sorted(e["Records"][0]["s3"]["object"]["key"] for e in trigger.events) == [
        "incoming/a.csv", "incoming/b.csv", "incoming/c.csv"]
    assert len(report.dlq_replayed) == 2 and len(report.dlq_failed) == 1
    assert "still throttled" in report.dlq_failed[0]["error"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    # b.csv stays on the queue (in flight until its visibility timeout), the others are gone.
    assert int(attrs["Attributes"]["ApproximateNumberOfMessages"]) + \
        int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) == 1


def _machine(sfn) -> str:
    role = "arn:aws:iam::123456789012:role/sfn"
    return sfn.create_state_machine(name="pipeline", definition=DEFINITION, roleArn=role)["stateMachineArn"]


def test_a_failed_execution_is_replayed_once_with_its_input(aws, monkeypatch):
    sfn = aws["stepfunctions"]
    machine = _machine(sfn)
    original = "entities-" + "a" * 40
    payload = json.dumps({"source": {"bucket": "raw", "key": "incoming/entities/x.csv", "version": "v1"}})
    arn = sfn.start_execution(stateMachineArn=machine, name=original, input=payload)["executionArn"]
    sfn.stop_execution(executionArn=arn, error="States.TaskFailed", cause="Glue job failed")  # -> ABORTED

    report = ReplayReport()
    replay_failed_executions(sfn, state_machine_arn=machine, report=report)
    assert report.executions_started == [{"execution": original, "replay": replay_name(original, 1),
                                          "source": "incoming/entities/x.csv"}]
    replay_arn = machine.replace(":stateMachine:", ":execution:") + ":" + replay_name(original, 1)
    assert sfn.describe_execution(executionArn=replay_arn)["input"] == payload

    # Run again: the replay exists (running or succeeded), so nothing new starts.
    again = ReplayReport()
    replay_failed_executions(sfn, state_machine_arn=machine, report=again)
    assert again.executions_started == [] and again.executions_skipped[0]["execution"] == original


def test_replay_names_look_like_execution_names_and_filters_apply(aws):
    sfn = aws["stepfunctions"]
    machine = _machine(sfn)
    original = "d" * 39 + "-" + "b" * 40
    names = {replay_name(original, n) for n in range(1, MAX_REPLAYS + 1)}
    assert len(names) == MAX_REPLAYS and all(len(n) <= 80 and n.startswith("d" * 39 + "-") for n in names)
    arn = sfn.start_execution(stateMachineArn=machine, name=original, input="{}")["executionArn"]
    sfn.stop_execution(executionArn=arn)
    report = ReplayReport()
    replay_failed_executions(sfn, state_machine_arn=machine, report=report, select=lambda e: False)
    assert report.executions_started == []
