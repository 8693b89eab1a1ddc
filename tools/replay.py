"""`make replay`: re-drive the S3 trigger's dead-letter queue and failed executions (lakepipe/replay.py).

Locally (default) it talks to the local endpoint with the stack `make deploy-local` applied. Against AWS:
    terraform -chdir=terraform/environments/dev output -json > /tmp/dev-outputs.json
    .venv/bin/python tools/replay.py --aws --outputs /tmp/dev-outputs.json [--dataset NAME] [--execution NAME]
(credentials and Region from the usual AWS environment; needs sqs:ReceiveMessage/DeleteMessage on the DLQ,
lambda:InvokeFunction on the trigger, states:ListExecutions/DescribeExecution/StartExecution).
Prints a JSON report; exits 1 when something could not be replayed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lakepipe.replay import ReplayReport, replay_dlq, replay_failed_executions
from tools import local_lake


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make replay", description=__doc__.split("\n")[0])
    ap.add_argument("--aws", action="store_true", help="use the AWS environment's credentials, not the endpoint")
    ap.add_argument("--outputs", type=Path, help="`terraform output -json` of the stack (default: the local one)")
    ap.add_argument("--dataset", help="only failed executions of this dataset")
    ap.add_argument("--execution", action="append", default=[], help="only these failed executions (repeatable)")
    ap.add_argument("--no-dlq", action="store_true", help="leave the trigger's dead-letter queue alone")
    ns = ap.parse_args(argv)

    outputs = local_lake.stack_outputs(ns.outputs)
    client = (lambda service: boto3.client(service)) if ns.aws else local_lake.client
    report = ReplayReport()
    if not ns.no_dlq:
        replay_dlq(client("sqs"), client("lambda"), queue_url=outputs["trigger_dead_letter_queue_url"],
                   function_name=outputs["trigger_function_name"], report=report)

    def select(execution: dict) -> bool:
        if ns.execution and execution["name"] not in ns.execution:
            return False
        return not ns.dataset or execution["name"].startswith(f"{ns.dataset}-")

    replay_failed_executions(client("stepfunctions"), state_machine_arn=outputs["state_machine_arn"],
                             report=report, select=select)
    print(json.dumps(report.as_dict(), indent=2))
    return 1 if report.dlq_failed else 0


if __name__ == "__main__":
    sys.exit(main())
