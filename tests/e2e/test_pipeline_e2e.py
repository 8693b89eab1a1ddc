"""The user's path end to end, through tools/local_lake.py (what `make run`, `make query` and `make demo`
use): upload with the AWS CLI, wait for the execution, then check the table, the views in Athena and in
Spark, a re-delivery that changes nothing, and a file with a missing column that fails loudly and changes
nothing.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import threading
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tools import local_lake

from .conftest import REGION, REPO, DeployedStack, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "sample_data" / "entities_sample.csv"
MISSING_COLUMN = REPO / "tests" / "pipeline" / "data" / "missing_column.csv"
DEADLINE_S = 900
TABLE_SQL = ("SELECT entity1, entity2, entity3, entity4, key, value, lakepipe_source_file, "
             "CAST(lakepipe_ingested_at AS varchar) AS ingested_at, lakepipe_run_id "
             "FROM lake.entities ORDER BY entity1, entity2, entity3, entity4, key")


@pytest.fixture(scope="module")
def lake(stack_env):
    """tools/local_lake.py pointed at the private stack."""
    spark = local_lake.SparkLake()
    yield spark
    spark.stop()


def expected_rows() -> dict[tuple, str]:
    """Natural key -> value from the sample CSV (the last line of a key wins; the sample is clean)."""
    with open(SAMPLE, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return {(r["entity1"], r["entity2"], r["entity3"], r["entity4"], r["key"]): r["value"] for r in rows}


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


class ListeningWatcher(threading.Thread):
    """Samples `ss -ltnp` while the pipeline runs; records listening sockets of the endpoint's process
    tree (Lambda handlers, Glue drivers, their JVMs) that are not on 127.0.0.1."""

    def __init__(self, endpoint_pid: int):
        super().__init__(daemon=True)
        self.endpoint_pid, self.stop_event, self.samples, self.offenders = endpoint_pid, threading.Event(), 0, set()

    def run(self) -> None:
        while not self.stop_event.is_set():
            out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=False).stdout
            for line in out.splitlines():
                local = line.split()[3]
                for pid in map(int, re.findall(r"pid=(\d+)", line)):
                    if _descends_from(pid, self.endpoint_pid) and not re.match(r"(\[::ffff:)?127\.0\.0\.1", local):
                        self.offenders.add(f"{local} pid {pid}")
            self.samples += 1
            self.stop_event.wait(0.5)


@pytest.fixture(scope="module")
def first_run(lake, deployed_stack: DeployedStack):
    watcher = ListeningWatcher(int((deployed_stack.home / "pid").read_text()))
    watcher.start()
    try:
        summary, record = local_lake.run_file(SAMPLE, "entities", DEADLINE_S)
    finally:
        watcher.stop_event.set()
        watcher.join()
    assert summary["status"] == "SUCCEEDED", summary
    return summary, record, watcher


def test_nothing_listens_beyond_loopback_during_a_run(first_run):
    watcher = first_run[2]
    assert watcher.samples > 5, "the watcher sampled during the run"
    assert watcher.offenders == set(), f"non-loopback listeners in the endpoint's process tree: {watcher.offenders}"


def test_run_summary_and_record(first_run):
    summary, record, _ = first_run
    expected = expected_rows()
    assert summary["table"] == "lake.entities"
    assert summary["rows_read"] == summary["rows_loaded"] == len(expected)
    assert summary["rows_rejected"] == 0 and summary["error"] is None
    assert record["status"] == "SUCCEEDED" and record["error"] is None
    assert {v["split_value"] for v in summary["views"]} == {k[0] for k in expected}


def test_table_holds_the_sample_rows(first_run):
    rows = local_lake.athena_query(TABLE_SQL)
    got = {tuple(r[:5]): r[5] for r in rows[1:]}
    assert got == expected_rows()


def test_every_view_has_both_representations(first_run, deployed_stack: DeployedStack):
    summary, _, _ = first_run
    glue = deployed_stack.client("glue")
    for v in summary["views"]:
        db, name = v["view"].split(".")
        assert db == "lake_views", "views live apart from the base tables, in the database analysts read"
        table = glue.get_table(DatabaseName=db, Name=name, IncludeStatusDetails=True)["Table"]
        assert table["TableType"] == "VIRTUAL_VIEW"
        # Glue validated both dialects (asynchronously) before the view job reported the view
        assert table["Status"]["State"] == "SUCCESS"
        assert {(d["Dialect"], d["State"]) for d in table["Status"]["Details"]["ViewValidations"]} == {
            ("SPARK", "SUCCESS"), ("ATHENA", "SUCCESS")}
        assert table["Parameters"]["lakepipe.managed_by"] == "entities"
        assert table["Parameters"]["lakepipe.split_value"] == v["split_value"]
        dialects = {r["Dialect"] for r in table["ViewDefinition"]["Representations"]}
        assert dialects == {"SPARK", "ATHENA"}
        assert len(table["StorageDescriptor"]["Columns"]) == v["columns"]


def test_each_view_answers_the_same_in_athena_and_spark(first_run, lake, deployed_stack: DeployedStack):
    summary, _, _ = first_run
    glue = deployed_stack.client("glue")
    lake.sync()
    expected = expected_rows()
    for v in summary["views"]:
        sql = f"SELECT * FROM {v['view']} ORDER BY entity2, entity3, entity4"
        athena, spark = local_lake.athena_query(sql), lake.query(sql)
        assert athena == spark, f"{v['view']}: Athena and Spark disagree"
        header, body = athena[0], athena[1:]
        assert len(header) == v["columns"] and body
        db, name = v["view"].split(".")
        column_map = json.loads(glue.get_table(DatabaseName=db, Name=name)["Table"]["Parameters"]["lakepipe.column_map"])
        # Every cell of the view is the sample's value for (split, ids, key), or null where the sample has none.
        for row in body:
            for col, cell in zip(header[4:], row[4:], strict=True):
                assert expected.get((*row[:4], column_map[col])) == cell


def analyst_athena(deployed_stack: DeployedStack):
    """Athena as the local account's analyst role (Terraform grants it like any analyst_principals entry)."""
    creds = deployed_stack.client("sts").assume_role(RoleArn=deployed_stack.outputs["analyst_role_arn"],
                                                     RoleSessionName="e2e-analyst")["Credentials"]
    return boto3.client("athena", region_name=REGION, endpoint_url=deployed_stack.endpoint_url,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))


def analyst_query(athena, workgroup: str, sql: str) -> dict:
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup)["QueryExecutionId"]

    def finished():
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        return q if q["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    return wait_for(finished, 120, f"the analyst's query {sql!r}")


def test_an_analyst_reads_the_views_and_not_the_tables(first_run, deployed_stack: DeployedStack):
    """With the stack's grants and analyst policy only, an analyst role queries every view in Athena and gets
    Lake Formation's access error on the base table (issue 9 item 4: before, analysts could query nothing)."""
    summary, _, _ = first_run
    athena, workgroup = analyst_athena(deployed_stack), deployed_stack.outputs["athena_workgroup"]
    for v in summary["views"]:
        sql = f"SELECT * FROM {v['view']} ORDER BY entity2, entity3, entity4"
        q = analyst_query(athena, workgroup, sql)
        assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
        rows = athena.get_query_results(QueryExecutionId=q["QueryExecutionId"])["ResultSet"]["Rows"]
        as_admin = local_lake.athena_query(sql)
        assert [[c.get("VarCharValue") for c in r["Data"]] for r in rows] == as_admin[:1000]
    q = analyst_query(athena, workgroup, "SELECT count(*) FROM lake.entities")
    assert q["Status"]["State"] == "FAILED"
    assert "Insufficient Lake Formation permission(s)" in q["Status"]["StateChangeReason"], q["Status"]
    # IAM: the analyst policy allows queries in the stack's workgroup only
    with pytest.raises(athena.exceptions.ClientError) as denied:
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="primary")
    assert "athena:StartQueryExecution" in str(denied.value)


DATA_SQL = ("SELECT entity1, entity2, entity3, entity4, key, value, lakepipe_source_file FROM lake.entities "
            "ORDER BY entity1, entity2, entity3, entity4, key")


def test_same_file_again_changes_no_values(first_run):
    """A re-upload is a new object version with a newer S3 event: no value changes, and the rows record the
    newer source (its run), so an older version arriving later cannot win against it (lakepipe.ordering)."""
    before = local_lake.athena_query(DATA_SQL)
    summary, record = local_lake.run_file(SAMPLE, "entities", DEADLINE_S)
    assert summary["status"] == "SUCCEEDED", summary
    assert summary["rows_loaded"] == len(expected_rows())
    assert local_lake.athena_query(DATA_SQL) == before
    runs = local_lake.athena_query("SELECT DISTINCT lakepipe_run_id FROM lake.entities")[1:]
    assert runs == [[record["execution"]]], "every row records the newer upload's run"


def test_missing_column_fails_loudly_and_changes_nothing(first_run, deployed_stack: DeployedStack):
    # An SQS queue on the failure topic receives the SNS notification.
    sqs, sns = deployed_stack.client("sqs"), deployed_stack.client("sns")
    queue_url = sqs.create_queue(QueueName="e2e-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=deployed_stack.outputs["failure_topic_arn"], Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    before = local_lake.athena_query(TABLE_SQL)

    summary, record = local_lake.run_file(MISSING_COLUMN, "entities", DEADLINE_S)

    assert summary["status"] == "FAILED"
    assert MISSING_COLUMN.name in summary["error"] and "missing" in summary["error"], summary["error"]
    assert record is not None and record["status"] == "FAILED" and record["ingest"] is None
    # nothing was loaded: the counts say 0, not null, in the summary and in the run record
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"]) == (0, 0, 0)
    assert (record["rows_read"], record["rows_loaded"], record["rows_rejected"]) == (0, 0, 0)
    sfn = deployed_stack.client("stepfunctions")
    arn = [e for e in sfn.list_executions(stateMachineArn=deployed_stack.outputs["state_machine_arn"],
                                          statusFilter="FAILED")["executions"]]
    assert arn, "the failed execution is listed"
    history_error = local_lake.execution_error(arn[0]["executionArn"])
    assert history_error and MISSING_COLUMN.name in history_error

    def notification():
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [m["Body"] for m in msgs if MISSING_COLUMN.name in m["Body"]]

    bodies = wait_for(notification, 60, "the SNS failure notification")
    assert "missing" in bodies[0]
    assert local_lake.athena_query(TABLE_SQL) == before


def test_s3tables_dataset_end_to_end(first_run, lake, deployed_stack: DeployedStack):
    """tests/e2e/datasets/entities_s3t.json (target s3tables): the sample lands in the S3 Tables catalog and
    every view, created in a default-catalog database, answers the same in Athena and Spark."""
    summary, record = local_lake.run_file(SAMPLE, "entities_s3t", DEADLINE_S)
    assert summary["status"] == "SUCCEEDED", summary
    assert record["status"] == "SUCCEEDED" and record["ingest"]["source_version"]
    expected = expected_rows()
    assert summary["table"] == "lake_s3t.entities" and summary["rows_loaded"] == len(expected)
    assert {v["split_value"] for v in summary["views"]} == {k[0] for k in expected}
    bucket = deployed_stack.outputs["table_bucket_arn"].split("/")[-1]
    glue = deployed_stack.client("glue")
    lake.sync()
    for v in summary["views"]:
        db, name = v["view"].split(".")
        assert db == "lake_s3t" and name.startswith("s3t_view_")
        view = glue.get_table(DatabaseName=db, Name=name, IncludeStatusDetails=True)["Table"]
        assert view["ViewDefinition"]["SubObjects"][0].endswith(f":table/s3tablescatalog/{bucket}/lake_s3t/entities")
        # Glue stores a validated ATHENA text as "/* Presto View: <base64> */"; the submitted SQL stays in
        # the status details.
        athena_text = next(d["ViewValidationText"] for d in view["Status"]["Details"]["ViewValidations"]
                           if d["Dialect"] == "ATHENA")
        assert f'"s3tablescatalog/{bucket}"."lake_s3t"."entities"' in athena_text
        sql = f"SELECT * FROM {v['view']} ORDER BY entity2, entity3, entity4"
        athena, spark = local_lake.athena_query(sql), lake.query(sql)
        assert athena == spark and len(athena) > 1, f"{v['view']}: Athena and Spark disagree"
        column_map = json.loads(view["Parameters"]["lakepipe.column_map"])
        for row in athena[1:]:
            for col, cell in zip(athena[0][4:], row[4:], strict=True):
                assert expected.get((*row[:4], column_map[col])) == cell
