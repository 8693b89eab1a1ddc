"""Real feeds end to end (issue 12): a CSV whose quoted values span lines (LF, CRLF) is uploaded to the
deployed stack; the table holds the values byte for byte in Athena and in Spark, the views agree in both
dialects, and the run's quality results are queryable in Athena (`<table>_quality`)."""

from __future__ import annotations

import json

import pytest

from tools import local_lake

from .conftest import DeployedStack, wait_for

pytestmark = pytest.mark.e2e

DATASET = "entities_feeds"
DEADLINE_S = 600
CSV = (b"entity1,entity2,entity3,entity4,key,value\r\n"
       b'ACME,EMEA,2024,H1,address,"1 Main St\nSpringfield"\r\n'
       b'ACME,EMEA,2024,H1,note,"line one\r\nline two, with ""quotes"""\n'
       b"ACME,,2024,H1,revenue,10\n"
       b'Globex,APAC,2024,H1,address,"single line"\n')
EXPECTED = {("ACME", "address"): "1 Main St\nSpringfield",
            ("ACME", "note"): 'line one\r\nline two, with "quotes"',
            ("ACME", "revenue"): "10", ("Globex", "address"): "single line"}


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def loaded(deployed_stack: DeployedStack, tmp_path_factory, monkeypatch_module):
    outputs = tmp_path_factory.mktemp("feeds-outputs") / "stack.json"
    outputs.write_text(json.dumps(deployed_stack.outputs))
    for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
              "AWS_REGION"):
        monkeypatch_module.setenv(k, deployed_stack.env[k])
    monkeypatch_module.setenv("LAKEPIPE_STACK_OUTPUTS", str(outputs))
    spec = local_lake.dataset_spec(DATASET, deployed_stack.outputs)
    raw = deployed_stack.outputs["bucket_names"]["raw"]
    deployed_stack.client("s3").put_object(Bucket=raw, Key=f"{spec.raw_prefix}multiline.csv", Body=CSV)
    sfn = deployed_stack.client("stepfunctions")
    machine = deployed_stack.outputs["state_machine_arn"]

    def finished():
        execs = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
                 for e in page["executions"] if e["name"].startswith(f"{DATASET}-")]
        return execs if execs and all(e["status"] != "RUNNING" for e in execs) else None

    executions = wait_for(finished, DEADLINE_S, f"the execution of {DATASET}", interval=2.0)
    assert [e["status"] for e in executions] == ["SUCCEEDED"], executions
    return spec


def test_values_spanning_lines_in_athena_and_spark(loaded):
    sql = f"SELECT entity1, key, value FROM {loaded.database}.{loaded.table}"
    athena = {(r[0], r[1]): r[2] for r in local_lake.athena_query(sql)[1:]}
    spark = {(r[0], r[1]): r[2] for r in local_lake.spark_query(sql)[1:]}
    assert athena == spark == EXPECTED


def test_views_agree_in_both_dialects(loaded):
    sql = f"SELECT * FROM {loaded.views_database}.{loaded.view_prefix}acme"
    athena, spark = local_lake.athena_query(sql), local_lake.spark_query(sql)
    def rows(result):  # None (a NULL id) sorts first
        return sorted(result[1:], key=lambda r: [(v is not None, v or "") for v in r])

    assert athena[0] == spark[0] and rows(athena) == rows(spark)
    emea = athena[0].index("entity2")
    row = next(dict(zip(athena[0], r, strict=True)) for r in athena[1:] if r[emea] == "EMEA")
    assert row["note"] == EXPECTED[("ACME", "note")] and row["address"] == EXPECTED[("ACME", "address")]


def test_quality_results_are_queryable_in_athena(loaded):
    rows = local_lake.athena_query(
        f"SELECT rule, severity, passed, failing_rows, sample_lines FROM {loaded.database}.{loaded.table}_quality")
    assert sorted(map(tuple, rows[1:])) == [("not_null_entity2", "warn", "false", "1", "[6]"),
                                            ("row_count", "error", "true", "0", "[]")]
