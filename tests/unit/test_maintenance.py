"""Table maintenance without Spark: the settings and their defaults (the same in Python and Terraform), which
tables a dataset owns, the S3 Tables maintenance configuration against moto (with the endpoint's S3 Tables
patch), the maintenance state machine in moto's ASL engine (the one the local endpoint runs), and the job's
arguments rendered from job_arguments.json."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lakepipe.maintenance import (
    MaintenanceError,
    Settings,
    configure_s3tables_dataset,
    dataset_tables,
    s3tables_configuration,
)
from lakepipe.spec import parse_spec
from tools.glue_job_args import job_arguments

from .test_state_machine import render, targets

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "state_machines" / "maintenance.asl.json"
MODULE = REPO / "terraform" / "modules" / "maintenance"
VARS = {"partition": "aws", "maintenance_job_name": "lakepipe-dev-maintenance", "max_concurrency": "2",
        "failure_topic_arn": "arn:aws:sns:eu-west-1:123456789012:lakepipe-failures"}


def tf_default(name: str) -> str:
    text = (MODULE / "variables.tf").read_text()
    block = re.search(r'variable "' + name + r'" \{(.*?)\n\}', text, re.DOTALL)
    assert block, name
    return re.search(r"^\s*default\s*=\s*(.+)$", block[1], re.MULTILINE)[1].strip()


def test_python_defaults_are_the_terraform_defaults_and_s3_tables_own():
    s = Settings()
    # S3 Tables: compaction 512 MB; keep >= 1 snapshot, expire after 120 h; unreferenced files after 3 days.
    assert (s.target_file_size_mb, s.snapshot_retention_hours, s.min_snapshots_to_keep,
            s.orphan_file_retention_hours) == (512, 120, 1, 72)
    assert int(tf_default("target_file_size_mb")) == s.target_file_size_mb
    assert int(tf_default("snapshot_retention_hours")) == s.snapshot_retention_hours
    assert int(tf_default("min_snapshots_to_keep")) == s.min_snapshots_to_keep
    assert int(tf_default("orphan_file_retention_days")) * 24 == s.orphan_file_retention_hours


def test_settings_from_the_state_machine_json():
    s = Settings.from_json('{"target_file_size_mb": "128", "snapshot_retention_hours": 24, '
                           '"min_snapshots_to_keep": 3, "orphan_file_retention_hours": "48", '
                           '"s3tables_table_bucket_arn": ""}')
    assert s == Settings(128, 24.0, 3, 48.0, "")
    assert Settings.from_json("") == Settings()
    with pytest.raises(ValueError, match="unknown maintenance settings"):
        Settings.from_json('{"retain_last": 2}')
    with pytest.raises(ValueError, match="min_snapshots_to_keep"):
        Settings.from_json('{"min_snapshots_to_keep": 0}')
    with pytest.raises(ValueError, match="negative"):
        Settings(orphan_file_retention_hours=-1)


@pytest.mark.parametrize("table,others,expected", [
    ("entities", [], ["entities", "entities_burst", "entities_burst_ledger", "entities_ledger", "entities_quality"]),
    ("entities", ["entities_burst"], ["entities", "entities_ledger", "entities_quality"]),
    ("entities_burst", ["entities"], ["entities_burst", "entities_burst_ledger"]),
    ("regulatory", ["entities", "entities_burst"], []),
])
def test_a_dataset_owns_its_table_and_side_tables_not_a_longer_named_dataset(table, others, expected):
    names = ["entities", "entities_ledger", "entities_quality", "entities_burst", "entities_burst_ledger",
             "entitiesx", "entity_view_acme"]
    assert dataset_tables(names, table, others) == expected


S3T_SPEC = parse_spec({"name": "filings", "raw_prefix": "incoming/filings/", "target": "s3tables",
                       "database": "finance", "table": "filings"})


def test_s3_tables_configuration_of_every_table_of_the_dataset():
    import boto3
    from moto import mock_aws

    from localcloud.patches import s3tables as s3tables_patch

    s3tables_patch.apply()  # moto 5.2.5 lacks PutTableMaintenanceConfiguration; the endpoint's patch adds it
    with mock_aws():
        client = boto3.client("s3tables", region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        arn = client.create_table_bucket(name="lakepipe-dev-tables")["arn"]
        client.create_namespace(tableBucketARN=arn, namespace=["finance"])
        for name in ("filings", "filings_ledger", "filings_quality", "other"):
            client.create_table(tableBucketARN=arn, namespace="finance", name=name, format="ICEBERG")
        settings = Settings(target_file_size_mb=128, snapshot_retention_hours=48, min_snapshots_to_keep=3,
                            s3tables_table_bucket_arn=arn)
        report = configure_s3tables_dataset(client, S3T_SPEC, settings=settings, other_tables=["other"])
        assert report["failed"] == []
        assert [t["table"] for t in report["tables"]] == [
            "finance.filings", "finance.filings_ledger", "finance.filings_quality"]
        for name in ("filings", "filings_ledger", "filings_quality"):
            cfg = client.get_table_maintenance_configuration(tableBucketARN=arn, namespace="finance",
                                                             name=name)["configuration"]
            assert cfg["icebergCompaction"]["settings"]["icebergCompaction"]["targetFileSizeMB"] == 128
            snap = cfg["icebergSnapshotManagement"]["settings"]["icebergSnapshotManagement"]
            assert (snap["minSnapshotsToKeep"], snap["maxSnapshotAgeHours"]) == (3, 48)
        other = client.get_table_maintenance_configuration(tableBucketARN=arn, namespace="finance", name="other")
        assert other["configuration"]["icebergCompaction"]["settings"]["icebergCompaction"]["targetFileSizeMB"] != 128
    with pytest.raises(MaintenanceError, match="no s3tables_table_bucket_arn"):
        configure_s3tables_dataset(None, S3T_SPEC, settings=Settings(), other_tables=[])


def test_s3_tables_values_are_in_the_api_ranges():
    cfg = s3tables_configuration(Settings(snapshot_retention_hours=0.2))
    assert cfg["icebergSnapshotManagement"]["settings"]["icebergSnapshotManagement"]["maxSnapshotAgeHours"] == 1
    assert set(cfg) == {"icebergCompaction", "icebergSnapshotManagement"}


@pytest.fixture(scope="module")
def asl():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(VARS), "template vars changed (modules/maintenance)"
    return json.loads(render(text, VARS))


def test_the_map_and_its_iteration_are_closed_graphs(asl):
    inner = asl["States"]["EachDataset"]["ItemProcessor"]
    for graph in (asl, inner):
        states = graph["States"]
        reached, todo = set(), [graph["StartAt"]]
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo += targets(states[name])
        assert reached == set(states)
    maintain = inner["States"]["Maintain"]
    assert maintain["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert maintain["Parameters"]["JobName"] == "lakepipe-dev-maintenance"
    assert [c["Next"] for c in maintain["Catch"]] == ["NotifyFailure"]
    assert inner["States"]["NotifyFailure"]["Parameters"]["TopicArn"] == VARS["failure_topic_arn"]
    assert asl["States"]["EachDataset"]["MaxConcurrency"] == 2


def test_maintenance_capacity_retries_are_the_pipeline_jobs():
    pipeline = json.loads((REPO / "state_machines" / "pipeline.asl.json").read_text())
    definition = json.loads(TEMPLATE.read_text().replace("${max_concurrency}", "1"))
    maintain = definition["States"]["EachDataset"]["ItemProcessor"]["States"]["Maintain"]
    assert maintain["Retry"] == pipeline["States"]["Ingest"]["Retry"]


def _run(asl: dict, execution_input: dict) -> tuple[str, list[str]]:
    """Run the definition in moto's ASL engine with the Glue task replaced by a Parallel state that fails for
    the dataset named "broken" (Parallel has the Task's Catch) and the SNS task by a Pass. Returns the status
    and the states entered."""
    import boto3
    from moto import mock_aws
    from moto.core.config import default_user_config

    definition = json.loads(json.dumps(asl))
    inner = definition["States"]["EachDataset"]["ItemProcessor"]["States"]
    inner["Maintain"] = {
        "Type": "Parallel", "Next": inner["Maintain"]["Next"], "Catch": inner["Maintain"]["Catch"],
        "Branches": [{"StartAt": "Job", "States": {
            "Job": {"Type": "Choice", "Default": "Ok", "Choices": [
                {"Not": {"Variable": "$.settings.min_snapshots_to_keep", "IsPresent": True}, "Next": "Boom"},
                {"Variable": "$.dataset", "StringEquals": "broken", "Next": "Boom"}]},
            "Boom": {"Type": "Fail", "Error": "Glue.JobRunFailed", "Cause": "the job failed"},
            "Ok": {"Type": "Pass", "End": True}}}]}
    inner["NotifyFailure"] = {"Type": "Pass", "Next": inner["NotifyFailure"]["Next"]}
    saved = dict(default_user_config.get("stepfunctions", {}))
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    try:
        with mock_aws():
            sfn = boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="testing",
                               aws_secret_access_key="testing")
            arn = sfn.create_state_machine(name="maintenance", definition=json.dumps(definition),
                                           roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
            run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
            for _ in range(400):
                d = sfn.describe_execution(executionArn=run)
                if d["status"] != "RUNNING":
                    break
                time.sleep(0.05)  # poll of a deadline-bounded wait (400 x 50 ms)
            events = sfn.get_execution_history(executionArn=run, maxResults=1000)["events"]
            entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
            return d["status"], entered
    finally:
        default_user_config["stepfunctions"] = saved


def _input(*datasets: str) -> dict:
    return {"settings": {"target_file_size_mb": 512, "snapshot_retention_hours": 120, "min_snapshots_to_keep": 1,
                         "orphan_file_retention_hours": 72, "s3tables_table_bucket_arn": ""},
            "datasets": [{"dataset": d, "dataset_spec": json.dumps({"name": d}), "other_tables": "[]"}
                         for d in datasets]}


def test_every_dataset_is_maintained_and_a_failure_is_notified_and_fails_the_execution(asl):
    status, entered = _run(asl, _input("entities", "regulatory"))
    assert status == "SUCCEEDED" and entered.count("Maintain") == 2 and "NotifyFailure" not in entered
    status, entered = _run(asl, _input("entities", "broken", "regulatory"))
    # the other datasets still ran; the broken one was notified; the execution failed
    assert status == "FAILED" and entered.count("Maintain") == 3 and entered.count("NotifyFailure") == 1
    assert "MaintenanceFailed" in entered


def test_maintenance_job_arguments_are_the_common_ones_from_job_arguments_json():
    args = job_arguments("maintenance", raw_bucket="raw", artifacts_bucket="art", warehouse_bucket="wh",
                         definer_role_arn="")
    ingest = job_arguments("ingest", raw_bucket="raw", artifacts_bucket="art", warehouse_bucket="wh",
                           definer_role_arn="")
    assert args["--runs_location"] == "s3://art/runs/" and args["--conf"] == ingest["--conf"]
    assert "--rejects_location" not in args and "--definer_role_arn" not in args
    assert {k: v for k, v in ingest.items() if k not in ("--rejects_location", "--staging_location")} == args
