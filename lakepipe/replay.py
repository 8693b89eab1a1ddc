"""Re-drive what a burst or an outage left behind, idempotently (`make replay`, tools/replay.py).

Two places hold work that did not load:

* the S3 trigger's dead-letter queue: asynchronous invocations that still failed after Lambda's retries
  (e.g. StartExecution throttled or denied). Each message body is the original S3 event; it is given to
  the trigger function again (a synchronous Invoke, so the same validation and execution name apply) and
  deleted only when that invocation succeeds. An object version whose execution already exists is a
  no-op for the trigger (ExecutionAlreadyExists), so replaying a message twice starts nothing twice.
* failed executions (FAILED, TIMED_OUT, ABORTED: also what the failure notifications name). Standard
  workflow execution names are unique, so a replay is a new execution with the same input under a name
  derived from the original one and the attempt number. A file version that already has a SUCCEEDED or
  RUNNING execution (original or replay) is skipped; at most MAX_REPLAYS replays per execution.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_REPLAYS = 5
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
DLQ_BATCH = 10
DLQ_VISIBILITY_S = 300  # long enough for one synchronous trigger invocation per message


@dataclass
class ReplayReport:
    dlq_replayed: list[str] = field(default_factory=list)
    dlq_failed: list[dict[str, str]] = field(default_factory=list)
    executions_started: list[dict[str, str]] = field(default_factory=list)
    executions_skipped: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dlq_replayed": len(self.dlq_replayed), "dlq_failed": self.dlq_failed,
                "executions_started": self.executions_started, "executions_skipped": self.executions_skipped}


def replay_name(original: str, attempt: int) -> str:
    """`<dataset>-<40 hex>` like every execution name (80 characters at most): the dataset prefix is kept
    so replays list and filter with their dataset."""
    dataset = original.rsplit("-", 1)[0]
    digest = hashlib.sha256(f"{original}\0replay\0{attempt}".encode()).hexdigest()[:40]
    return f"{dataset}-{digest}"


def replay_dlq(sqs, lambda_client, *, queue_url: str, function_name: str, report: ReplayReport,
               max_messages: int = 10_000) -> None:
    seen = 0
    while seen < max_messages:
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=DLQ_BATCH,
                                   VisibilityTimeout=DLQ_VISIBILITY_S, WaitTimeSeconds=0,
                                   MessageAttributeNames=["All"]).get("Messages", [])
        if not msgs:
            return
        for m in msgs:
            seen += 1
            resp = lambda_client.invoke(FunctionName=function_name, InvocationType="RequestResponse",
                                        Payload=m["Body"].encode())
            payload = resp["Payload"].read().decode(errors="replace")
            if resp.get("FunctionError"):
                # Left on the queue (visible again after the timeout) for the next replay.
                report.dlq_failed.append({"message_id": m["MessageId"], "error": payload[:2000]})
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            report.dlq_replayed.append(m["MessageId"])


def _status(sfn, machine_arn: str, name: str) -> str | None:
    arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    try:
        return sfn.describe_execution(executionArn=arn)["status"]
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def replay_failed_executions(sfn, *, state_machine_arn: str, report: ReplayReport,
                             select: Callable[[dict[str, Any]], bool] = lambda _e: True) -> None:
    failed: list[dict[str, Any]] = []
    for status in FAILED_STATUSES:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn,
                                                                  statusFilter=status):
            failed += page["executions"]
    replays = {replay_name(e["name"], n) for e in failed for n in range(1, MAX_REPLAYS + 1)}
    for e in sorted(failed, key=lambda x: x["name"]):
        if e["name"] in replays or not select(e):
            continue  # a failed replay is retried through its original execution
        statuses = [(n, _status(sfn, state_machine_arn, replay_name(e["name"], n)))
                    for n in range(1, MAX_REPLAYS + 1)]
        done = [n for n, s in statuses if s in ("SUCCEEDED", "RUNNING")]
        if done:
            report.executions_skipped.append({"execution": e["name"], "reason": f"replay {done[0]} is "
                                              f"{dict(statuses)[done[0]]}"})
            continue
        free = [n for n, s in statuses if s is None]
        if not free:
            report.executions_skipped.append({"execution": e["name"],
                                              "reason": f"replayed {MAX_REPLAYS} times already, all failed"})
            continue
        desc = sfn.describe_execution(executionArn=e["executionArn"])
        name = replay_name(e["name"], free[0])
        try:
            sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=desc["input"])
        except sfn.exceptions.ExecutionAlreadyExists:
            pass  # a concurrent replay started it
        report.executions_started.append({"execution": e["name"], "replay": name,
                                          "source": json.loads(desc["input"]).get("source", {}).get("key", "")})
