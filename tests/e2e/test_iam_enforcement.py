"""IAM enforcement end to end: a permission the pipeline needs, removed from one role, fails the run with
AccessDenied naming that action and the resource.

For each role the deployed stack gives the pipeline (the S3 trigger's, the state machine's, the ingest
job's, the view job's, the run recorder's; found from the deployed function, state machine and jobs, so the
test follows however Terraform splits them), one action is removed from the role's inline policies with the
admin credentials, a file is uploaded, the failure is read where an operator would see it (execution
history, which carries the job run's ErrorMessage and the Lambda error; the endpoint log for the trigger,
whose asynchronous invocation has no caller) and the policy is restored. These runs are deliberately broken,
so the module runs after the other e2e tests (tests/e2e/conftest.py orders it last).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from lakepipe.naming import execution_name
from tools import local_lake

from .conftest import REGION, REPO, DeployedStack, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "sample_data" / "entities_sample.csv"
DATASET = "entities"
DEADLINE_S = 600


@pytest.fixture(scope="module")
def stack(deployed_stack: DeployedStack) -> DeployedStack:
    return deployed_stack


@pytest.fixture(scope="module")
def roles(stack: DeployedStack) -> dict[str, str]:
    """Role name per pipeline role, discovered from what is deployed."""
    sfn, glue, lam, s3 = (stack.client(s) for s in ("stepfunctions", "glue", "lambda", "s3"))
    machine = sfn.describe_state_machine(stateMachineArn=stack.outputs["state_machine_arn"])
    states = json.loads(machine["definition"])["States"]
    jobs = [s["Parameters"]["JobName"] for s in states.values() if "glue:startJobRun" in s.get("Resource", "")]
    functions = {s["Parameters"]["FunctionName"] for s in states.values() if "lambda:invoke" in s.get("Resource", "")}
    assert len(jobs) == 2 and len(functions) == 1, (jobs, functions)
    notification = s3.get_bucket_notification_configuration(Bucket=stack.outputs["bucket_names"]["raw"])
    trigger = notification["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"]

    def name(arn: str) -> str:
        return arn.rsplit("/", 1)[-1]

    return {
        "trigger": name(lam.get_function_configuration(FunctionName=trigger)["Role"]),
        "state machine": name(machine["roleArn"]),
        "ingest job": name(glue.get_job(JobName=jobs[0])["Job"]["Role"]),
        "view job": name(glue.get_job(JobName=jobs[1])["Job"]["Role"]),
        "recorder": name(lam.get_function_configuration(FunctionName=functions.pop())["Role"]),
        "_ingest_job_name": jobs[0],
        "_trigger_function": trigger.split(":")[6],
    }


@contextmanager
def without_action(stack: DeployedStack, role: str, action: str) -> Iterator[None]:
    """The role's inline policies minus `action` (in every statement that lists it); restored afterwards."""
    iam = stack.client("iam")
    originals = {p: iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"]
                 for p in iam.list_role_policies(RoleName=role)["PolicyNames"]}
    removed = False
    for name, doc in originals.items():
        doc = json.loads(doc) if isinstance(doc, str) else doc
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        kept = []
        for st in statements:
            actions = st.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            if action in actions:
                removed = True
                actions = [a for a in actions if a != action]
                if not actions:
                    continue
                st = {**st, "Action": actions}
            kept.append(st)
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps({**doc, "Statement": kept}))
    assert removed, f"{action} is in no inline policy of {role}: the pipeline would not need it"
    try:
        yield
    finally:
        for name, doc in originals.items():
            iam.put_role_policy(RoleName=role, PolicyName=name,
                                PolicyDocument=doc if isinstance(doc, str) else json.dumps(doc))


def upload(stack: DeployedStack) -> tuple[str, str, str]:
    """The sample under a fresh key; returns (bucket, key, execution name)."""
    spec = local_lake.dataset_spec(DATASET, stack.outputs)
    bucket = stack.outputs["bucket_names"]["raw"]
    key = f"{spec.raw_prefix}iam-{uuid.uuid4().hex[:8]}.csv"
    s3 = stack.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=SAMPLE.read_bytes())
    head = s3.head_object(Bucket=bucket, Key=key)
    return bucket, key, execution_name(spec.name, bucket, key, head.get("VersionId") or head["ETag"].strip('"'))


def failed_execution_text(stack: DeployedStack, name: str) -> str:
    """Every failure detail of the execution's history, once it has ended (it must not succeed)."""
    sfn = stack.client("stepfunctions")
    arn = stack.outputs["state_machine_arn"].replace(":stateMachine:", ":execution:") + f":{name}"

    def ended():
        try:
            status = sfn.describe_execution(executionArn=arn)["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return status if status != "RUNNING" else None

    status = wait_for(ended, DEADLINE_S, f"execution {name} to end")
    details = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        for event in page["events"]:
            details += [json.dumps(v) for k, v in event.items() if k.endswith("FailedEventDetails")]
    text = "\n".join(details)
    assert details, f"execution {name} ended {status} with no failure in its history"
    return text.replace('\\"', '"')


def denial(action: str, resource: str) -> re.Pattern[str]:
    return re.compile(rf"is not authorized to perform: {re.escape(action)} on resource: {resource}"
                      rf"(?= because| with)")


def test_each_role_missing_one_permission_fails_the_run_naming_action_and_resource(stack, roles):
    account = stack.outputs["state_machine_arn"].split(":")[4]
    artifacts = stack.outputs["bucket_names"]["artifacts"]
    runs_prefix = stack.outputs["runs_location"].split(f"s3://{artifacts}/", 1)[1]
    ingest_job_arn = f"arn:aws:glue:{REGION}:{account}:job/{roles['_ingest_job_name']}"
    staging = stack.client("glue").get_job(JobName=roles["_ingest_job_name"])["Job"]["DefaultArguments"][
        "--staging_location"].removeprefix("s3://")
    started = time.monotonic()
    cases = [
        # (role, action removed, where the failure shows, expected resource pattern given the upload's key)
        ("trigger", "states:StartExecution", "log", lambda key: re.escape(stack.outputs["state_machine_arn"])),
        ("state machine", "glue:StartJobRun", "history", lambda key: re.escape(ingest_job_arn)),
        # (the staging copy's PutObject: the copy's HEAD of the source, s3:GetObjectVersion, answers 403 without
        # a body, on AWS too, so a denial there cannot name anything)
        ("ingest job", "s3:PutObject", "history", lambda key: re.escape(f"arn:aws:s3:::{staging}") + r"\S+"),
        ("view job", "s3:PutObject", "history", lambda key: re.escape(f"arn:aws:s3:::{artifacts}/{runs_prefix}") + r"\S+"),
        ("recorder", "s3:PutObject", "history", lambda key: re.escape(f"arn:aws:s3:::{artifacts}/{runs_prefix}") + r"\S+"),
    ]
    seen = {}
    for role_kind, action, where, resource in cases:
        role = roles[role_kind]
        with without_action(stack, role, action):
            _, key, name = upload(stack)
            pattern = denial(action, resource(key))
            if where == "log":
                caller = rf"User: arn:aws:sts::{account}:assumed-role/{re.escape(role)}/\S+ "

                def logged(p=re.compile(caller + pattern.pattern)):
                    return p.search(stack.endpoint_log(5000))

                match = wait_for(logged, 120, f"the {role_kind}'s AccessDenied in the endpoint log")
                # Its retries must be over before the policy is restored (a late retry would start a run).
                gave_up = re.compile(rf"asynchronous invocation \S+ of {re.escape(roles['_trigger_function'])} "
                                     rf"failed after \d+ attempt\(s\):.*{re.escape(action)}")
                wait_for(lambda p=gave_up: p.search(stack.endpoint_log(5000)), 120, "the trigger's retries to end")
            else:
                text = failed_execution_text(stack, name)
                match = pattern.search(text)
                assert match, f"{role_kind} without {action}: no AccessDenied naming it in\n{text[:4000]}"
                assert f"assumed-role/{role}/" in text, f"the denial names another principal:\n{text[:2000]}"
            seen[role_kind] = match.group(0)
    print(f"\n[e2e] IAM: one permission removed per role, {len(cases)} runs failed as expected in "
          f"{time.monotonic() - started:.0f}s: " + json.dumps(seen, indent=1))
