"""Table maintenance on the deployed stack: the maintenance state machine, started with the input its
EventBridge Scheduler schedule holds (the endpoint does not fire schedules), runs the maintenance Glue job for
every dataset as the job's role (IAM and Lake Formation enforced), SUCCEEDS, and each dataset's report says
what it did. The tables' rows are the same before and after (local Athena). The 30-load scenario with its
bounds is tests/pipeline/test_maintenance.py."""

from __future__ import annotations

import json
import time

import pytest

from lakepipe.s3util import split_s3_uri

from .conftest import DeployedStack, wait_for

pytestmark = pytest.mark.e2e

NAME = "lakepipe-local-maintenance"  # modules/maintenance: <name_prefix>-<environment>-maintenance


def _athena_rows(stack: DeployedStack, sql: str) -> list[list[str]]:
    athena = stack.client("athena")
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=stack.outputs["athena_workgroup"])["QueryExecutionId"]

    def finished():
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        return state if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    state = wait_for(finished, 120, f"the query {sql!r}")
    assert state["State"] == "SUCCEEDED", state
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
    rows = [r for page in pages for r in page["ResultSet"]["Rows"]][1:]  # the first page starts with the header
    # NULL cells (e.g. a drift dataset's extra columns) sort first
    return sorted(([c.get("VarCharValue") for c in r["Data"]] for r in rows),
                  key=lambda row: [(v is not None, v or "") for v in row])


def _glue_tables(stack: DeployedStack, database: str) -> dict[str, list[str]]:
    """Iceberg tables of the database -> their columns."""
    pages = stack.client("glue").get_paginator("get_tables").paginate(DatabaseName=database)
    return {t["Name"]: [c["Name"] for c in t["StorageDescriptor"]["Columns"]] for p in pages for t in p["TableList"]
            if t.get("Parameters", {}).get("table_type", "").upper() == "ICEBERG"}


def _rows_sql(table: str, columns: list[str]) -> str:
    # every column as varchar: the local Athena cannot return timestamp-with-time-zone values as such
    return "SELECT " + ", ".join(f'CAST("{c}" AS varchar)' for c in columns) + f" FROM {table}"


def test_the_scheduled_maintenance_runs_every_dataset_and_keeps_the_rows(deployed_stack: DeployedStack):
    stack = deployed_stack
    schedule = stack.client("scheduler").get_schedule(Name=NAME)
    assert schedule["State"] == "ENABLED" and schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    machine = schedule["Target"]["Arn"]
    assert machine.endswith(f":stateMachine:{NAME}")
    schedule_input = json.loads(schedule["Target"]["Input"])
    specs = {d["dataset"]: json.loads(d["dataset_spec"]) for d in schedule_input["datasets"]}
    assert set(specs) == set(stack.outputs["datasets"])

    # Whatever the other tests loaded so far: every Iceberg table of the Glue-target datasets, and its rows.
    tables = {f"{spec['database']}.{t}": _rows_sql(f"{spec['database']}.{t}", columns)
              for spec in specs.values() if spec["target"] == "glue"
              for t, columns in _glue_tables(stack, spec["database"]).items()
              if t == spec["table"] or t.startswith(spec["table"] + "_")}
    before = {t: _athena_rows(stack, sql) for t, sql in tables.items()}

    sfn = stack.client("stepfunctions")
    t0 = time.monotonic()
    run = sfn.start_execution(stateMachineArn=machine, name="maintenance-e2e", input=json.dumps(schedule_input))

    def finished():
        d = sfn.describe_execution(executionArn=run["executionArn"])
        return d if d["status"] != "RUNNING" else None

    done = wait_for(finished, 900, "the maintenance execution", interval=1.0)
    print(f"\n[e2e] maintenance of {len(specs)} datasets ({len(tables)} tables): {time.monotonic() - t0:.1f} s")
    assert done["status"] == "SUCCEEDED", (done, stack.endpoint_log())

    s3 = stack.client("s3")
    bucket, prefix = split_s3_uri(stack.outputs["runs_location"])
    maintained = {}
    for name in specs:
        key = f"{prefix}{name}/maintenance-e2e/maintenance.json"
        report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert report["failed"] == [], report
        maintained |= {t["table"]: t for t in report["tables"]}
    # Every Glue-target table was maintained by its own dataset's run, and kept its bound and its rows.
    assert set(tables) <= set(maintained), (sorted(tables), sorted(maintained))
    for table, sql in tables.items():
        t = maintained[table]
        assert t["after"]["max_data_files_per_partition"] <= max(1, t["before"]["max_data_files_per_partition"])
        assert _athena_rows(stack, sql) == before[table], table
