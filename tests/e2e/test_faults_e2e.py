"""Faults survived (issue 11), end to end with the real local executors. Faults are injected by the local
endpoint's test controls only (localcloud/glue/faults.py: hold or kill a Glue run at its Iceberg commit;
localcloud/executors/lambda_exec.py: failed Lambda invocations), never by the pipeline's code:

- the S3 trigger fails once: Lambda's asynchronous retry starts the execution;
- the run recorder fails after a good load: the failure topic is notified; replaying the run loads nothing
  (the ledger lists the version);
- v1 then v2 of one key, v1's run held just before its commit until v2's run has committed: the table holds
  v2's values and the ledger both versions;
- a Glue run killed after writing its data files, before its commit: the table (rows, catalog pointer) is
  unchanged; `tools/replay.py` (`make replay`) loads the file once, a second replay starts nothing;
- the trigger fails on every attempt: the record is on the trigger's DLQ, and the replay command loads it once.

Dataset tests/e2e/datasets/entities_faults.json (its own table). The steps share one table, in file order.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lakepipe.naming import execution_name
from lakepipe.recorder import run_paths
from lakepipe.s3util import get_json
from localcloud.glue import faults as glue_faults
from tools import local_lake

from .conftest import REPO, DeployedStack, wait_for

pytestmark = pytest.mark.e2e

DATASET = "entities_faults"
CATALOG_TABLE = "lake.entities_faults"  # as the job's Iceberg catalogs name it (namespace.table)
DEADLINE_S = 600
HEADER = ["entity1", "entity2", "entity3", "entity4", "key", "value"]
TABLE_SQL = ('SELECT entity1, entity2, entity3, entity4, key, value, lakepipe_run_id FROM "lake"."entities_faults" '
             "ORDER BY entity1, entity2, entity3, entity4, key")
LEDGER_SQL = ('SELECT source_key, source_version, run_id, status, rows_loaded FROM "lake"."entities_faults_ledger" '
              "ORDER BY loaded_at")


class Lab:
    def __init__(self, stack: DeployedStack, folder: Path, outputs_file: Path):
        self.stack, self.folder, self.outputs_file = stack, folder, outputs_file
        self.spec = local_lake.dataset_spec(DATASET, stack.outputs)
        self.bucket = stack.outputs["bucket_names"]["raw"]
        self.machine = stack.outputs["state_machine_arn"]
        self.sfn, self.s3 = stack.client("stepfunctions"), stack.client("s3")
        self.glue_faults = glue_faults.faults_dir(stack.home / "state" / "glue")
        self.lambda_faults = stack.home / "state" / "lambda" / "faults"

    def key(self, name: str) -> str:
        return f"{self.spec.raw_prefix}{name}"

    def upload(self, name: str, rows: list[tuple[str, str, str]]) -> tuple[str, str]:
        """A csv of (entity1, key, value) rows -> the raw bucket; returns (version, execution name)."""
        path = self.folder / name
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            w.writerows([(e1, "e2", "e3", "e4", k, v) for e1, k, v in rows])
        version = local_lake.upload(path, self.bucket, self.key(name))
        return version, execution_name(DATASET, self.bucket, self.key(name), version)

    def execution(self, name: str) -> dict | None:
        arn = self.machine.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            return self.sfn.describe_execution(executionArn=arn)
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return None

    def finished(self, name: str) -> dict:
        return local_lake.wait_for_execution(self.machine, name, DEADLINE_S)

    def states_entered(self, arn: str) -> list[str]:
        return [ev["stateEnteredEventDetails"]["name"]
                for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
                for ev in page["events"] if "stateEnteredEventDetails" in ev]

    def ingest_report(self, execution: str) -> dict:
        return get_json(self.s3, run_paths(self.stack.outputs["runs_location"], DATASET, execution)["ingest"])

    def arm_lambda(self, name: str, *, function: str, event_contains: str, failures: int) -> Path:
        """Fail the first `failures` invocations of `function` whose event holds `event_contains` (a file name:
        S3 events carry the key URL-encoded, `/` as %2F)."""
        self.lambda_faults.mkdir(parents=True, exist_ok=True)
        path = self.lambda_faults / f"{name}.json"
        path.write_text(json.dumps({"function": function, "event_contains": event_contains, "failures": failures}))
        return path

    def replay(self, *args: str) -> dict:
        """The documented replay command (`make replay` runs tools/replay.py), against this stack."""
        env = dict(self.stack.env, LAKEPIPE_STACK_OUTPUTS=str(self.outputs_file))
        proc = subprocess.run([sys.executable, "tools/replay.py", "--dataset", DATASET, *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    def table(self) -> list[list[str | None]]:
        return local_lake.athena_query(TABLE_SQL)[1:]

    def values(self) -> dict[str, str]:
        return {r[4]: r[5] for r in self.table()}

    def ledger(self, key_name: str) -> list[list[str | None]]:
        return [r for r in local_lake.athena_query(LEDGER_SQL)[1:] if r[0] == self.key(key_name)]

    def commit_pointers(self) -> tuple[str, list[str]]:
        """Where the table's current metadata is: Glue's pointer and every local catalog's (the local commit
        point, which the runner copies to Glue after a run)."""
        glue = self.stack.client("glue").get_table(DatabaseName="lake", Name="entities_faults")["Table"]
        local = []
        for db in sorted((self.stack.home / "state" / "glue" / "iceberg").glob("*/catalog.db")):
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                local += [r[0] for r in conn.execute(
                    "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'lake' "
                    "AND table_name = 'entities_faults'")]
        return glue["Parameters"]["metadata_location"], local


@pytest.fixture(scope="module")
def lab(deployed_stack: DeployedStack, tmp_path_factory, stack_env) -> Lab:
    return Lab(deployed_stack, tmp_path_factory.mktemp("faults"), stack_env)


# ---- the first file: the trigger fails once, the recorder fails after the load ---------------------------

SEED = [("north", "a", "a-seed"), ("north", "b", "b-seed"), ("south", "c", "c-seed")]


@pytest.fixture(scope="module")
def seed(lab: Lab):
    sqs, sns = lab.stack.client("sqs"), lab.stack.client("sns")
    queue_url = sqs.create_queue(QueueName="e2e-faults-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=lab.stack.outputs["failure_topic_arn"], Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    trigger = lab.arm_lambda("trigger-fails-once", function=lab.stack.outputs["trigger_function_name"],
                             event_contains="seed.csv", failures=1)
    recorder = lab.arm_lambda("recorder-fails-once", function=lab.stack.outputs["run_recorder_function_name"],
                              event_contains="seed.csv", failures=1)
    version, name = lab.upload("seed.csv", SEED)
    desc = lab.finished(name)

    def notification():
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [m["Body"] for m in msgs if lab.key("seed.csv") in m["Body"]]  # the state input: its source

    return {"version": version, "name": name, "desc": desc, "notification": notification,
            "trigger": json.loads(trigger.read_text()), "recorder": json.loads(recorder.read_text())}


def test_a_transient_trigger_failure_is_retried(lab: Lab, seed):
    # The first invocation failed (injected); Lambda's asynchronous retry started the execution.
    assert seed["trigger"]["injected"] == 1
    assert seed["desc"]["status"] in ("SUCCEEDED", "FAILED")  # it ran (the recorder fails it: next test)
    assert {r[4]: r[5] for r in lab.table()} == {k: v for _, k, v in SEED}


def test_a_recorder_failure_after_a_good_load_still_notifies(lab: Lab, seed):
    assert seed["recorder"]["injected"] == 1
    assert seed["desc"]["status"] == "FAILED"
    states = lab.states_entered(seed["desc"]["executionArn"])
    assert states[-3:] == ["RecordSuccess", "NotifyFailure", "Failed"], states
    assert "BuildViews" in states and "RecordFailure" not in states
    bodies = wait_for(seed["notification"], 60, "the SNS failure notification")
    assert "recorder-fails-once" in bodies[0]  # the injected error, in the notification
    # The load itself was good: its rows and its ledger entry are there.
    assert [(r[3], r[4]) for r in lab.ledger("seed.csv")] == [("loaded", str(len(SEED)))]


def test_replaying_a_version_already_loaded_loads_nothing(lab: Lab, seed):
    before = lab.table()
    report = lab.replay("--no-dlq")
    started = [e for e in report["executions_started"] if e["execution"] == seed["name"]]
    assert len(started) == 1, report
    replay = started[0]["replay"]
    assert lab.finished(replay)["status"] == "SUCCEEDED"
    ingest = lab.ingest_report(replay)
    assert ingest["already_loaded"]["run_id"] == seed["name"] and ingest["rows_loaded"] == 0
    assert lab.table() == before
    assert len(lab.ledger("seed.csv")) == 1


# ---- v1 then v2 of one key, v1 committing last -------------------------------------------------------

V1 = [("north", "a", "a-v1"), ("north", "k", "k-v1"), ("south", "c", "c-v1")]
V2 = [("north", "a", "a-v2"), ("north", "k", "k-v2"), ("south", "c", "c-v2")]


@pytest.fixture(scope="module")
def versions(lab: Lab, seed):
    glue_faults.arm(lab.glue_faults, "hold-v1", match={"source_uri": f"s3://{lab.bucket}/{lab.key('same.csv')}"},
                    table=CATALOG_TABLE, action="hold", timeout_s=DEADLINE_S)
    v1, v1_name = lab.upload("same.csv", V1)
    glue_faults.wait_reached(lab.glue_faults, "hold-v1", DEADLINE_S)  # v1's data files are written
    v2, v2_name = lab.upload("same.csv", V2)
    v2_desc = lab.finished(v2_name)
    while_held = lab.values()
    v1_running = lab.execution(v1_name)["status"]
    glue_faults.release(lab.glue_faults, "hold-v1")
    return {"v1": v1, "v2": v2, "v1_name": v1_name, "v2_name": v2_name, "v2_desc": v2_desc,
            "while_held": while_held, "v1_running": v1_running, "v1_desc": lab.finished(v1_name)}


def test_the_newer_version_wins_when_the_older_commits_last(lab: Lab, versions):
    assert versions["v1_running"] == "RUNNING"  # v2 committed while v1 was held before its commit
    assert versions["v2_desc"]["status"] == "SUCCEEDED"
    assert versions["v1_desc"]["status"] == "SUCCEEDED"
    assert versions["while_held"]["k"] == "k-v2"
    rows = lab.table()
    assert {r[4]: r[5] for r in rows} == {"a": "a-v2", "b": "b-seed", "c": "c-v2", "k": "k-v2"}
    assert {r[6] for r in rows if r[4] in ("a", "c", "k")} == {versions["v2_name"]}
    # v1 lost the commit race, redid its load on v2's snapshot and found nothing newer to write.
    v1_report = lab.ingest_report(versions["v1_name"])
    assert v1_report["commit_retries"] >= 1 and v1_report["rows_changed"] == 0, v1_report


def test_the_ledger_lists_both_versions(lab: Lab, versions):
    entries = {r[1]: (r[2], r[3]) for r in lab.ledger("same.csv")}
    assert entries == {versions["v1"]: (versions["v1_name"], "unchanged"),
                       versions["v2"]: (versions["v2_name"], "loaded")}


# ---- a Glue run killed after writing its data files, before its commit --------------------------------

KILLED = [("north", "a", "a-killed"), ("south", "d", "d-killed")]


@pytest.fixture(scope="module")
def killed(lab: Lab, versions):
    rows, pointers = lab.table(), lab.commit_pointers()
    glue_faults.arm(lab.glue_faults, "kill", match={"source_uri": f"s3://{lab.bucket}/{lab.key('killed.csv')}"},
                    table=CATALOG_TABLE, action="kill")
    version, name = lab.upload("killed.csv", KILLED)
    reached = glue_faults.wait_reached(lab.glue_faults, "kill", DEADLINE_S)
    desc = lab.finished(name)
    return {"version": version, "name": name, "desc": desc, "reached": reached, "rows_before": rows,
            "pointers_before": pointers}


def test_a_killed_run_leaves_the_table_unchanged(lab: Lab, killed):
    assert killed["reached"].startswith("kill ")
    assert killed["desc"]["status"] == "FAILED"
    error = local_lake.execution_error(killed["desc"]["executionArn"])
    assert "driver process" in error, error
    assert lab.commit_pointers() == killed["pointers_before"]
    assert lab.table() == killed["rows_before"]
    assert lab.ledger("killed.csv") == []


def test_the_replay_loads_the_killed_file_once(lab: Lab, killed):
    report = lab.replay("--no-dlq")
    started = [e for e in report["executions_started"] if e["execution"] == killed["name"]]
    assert len(started) == 1, report
    assert lab.finished(started[0]["replay"])["status"] == "SUCCEEDED"
    values = lab.values()
    assert (values["a"], values["d"]) == ("a-killed", "d-killed")
    rows = lab.table()
    again = lab.replay("--no-dlq")
    assert again["executions_started"] == [], again
    assert any(s["execution"] == killed["name"] for s in again["executions_skipped"]), again
    assert lab.table() == rows
    assert [(r[2], r[3]) for r in lab.ledger("killed.csv")] == [(started[0]["replay"], "loaded")]


# ---- the trigger fails on every attempt: the DLQ, then the replay -------------------------------------

DLQ_ROWS = [("south", "e", "e-dlq")]


def test_a_record_on_the_trigger_dlq_is_replayed_once(lab: Lab, killed):
    attempts = 3  # the first invocation and Lambda's two asynchronous retries
    fault = lab.arm_lambda("trigger-fails-always", function=lab.stack.outputs["trigger_function_name"],
                           event_contains="dlq.csv", failures=attempts)
    sqs, dlq = lab.stack.client("sqs"), lab.stack.outputs["trigger_dead_letter_queue_url"]
    version, name = lab.upload("dlq.csv", DLQ_ROWS)

    def on_dlq():
        attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    wait_for(on_dlq, 120, "the failed trigger record on the DLQ", interval=0.5)
    assert json.loads(fault.read_text())["injected"] == attempts
    assert lab.execution(name) is None

    report = lab.replay()
    assert report["dlq_replayed"] >= 1 and report["dlq_failed"] == [], report
    assert lab.finished(name)["status"] == "SUCCEEDED"
    assert lab.values()["e"] == "e-dlq"
    again = lab.replay()
    assert again["dlq_replayed"] == 0 and again["executions_started"] == [], again
    assert on_dlq() == 0
    assert [(r[1], r[2], r[3]) for r in lab.ledger("dlq.csv")] == [(version, name, "loaded")]
