"""The jobs' custom metrics land in the endpoint's CloudWatch (issue 13, monitoring): after the runs the
e2e suite has already made on the shared stack (the burst, the faults, ...), the metrics of every dataset
add up to exactly what the runs' reports say, in the namespace the stack gave the jobs. The metrics are
put by the Glue job run as its role (the endpoint enforces the role's `cloudwatch:namespace` condition),
so a wrong namespace, a missing permission or a lost call shows here. Run alone, the test makes one run
of the sample itself. Also: the stack's dashboard and alarms were accepted by the endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict

import pytest

from tools import local_lake

from .conftest import REPO, DeployedStack, stack_environment, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "sample_data" / "entities_sample.csv"
DEADLINE_S = 900
FINAL = {"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR"}
REPORT_COUNTS = {"RowsRead": "rows_read", "RowsLoaded": "rows_loaded", "RowsRejected": "rows_rejected",
                 "RowsChanged": "rows_changed"}


def _job_runs_finished(deployed_stack: DeployedStack) -> bool:
    glue = deployed_stack.client("glue")
    for name in deployed_stack.outputs["glue_job_names"].values():
        for page in glue.get_paginator("get_job_runs").paginate(JobName=name):
            if any(r["JobRunState"] not in FINAL for r in page["JobRuns"]):
                return False
    return True


def _reports(deployed_stack: DeployedStack, kind: str) -> list[tuple[str, dict]]:
    """(dataset, report) of every `<kind>.json` under the stack's runs location."""
    bucket, _, prefix = deployed_stack.outputs["runs_location"].removeprefix("s3://").partition("/")
    s3 = deployed_stack.client("s3")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(f"/{kind}.json"):
                dataset = obj["Key"][len(prefix):].split("/")[0]
                out.append((dataset, json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())))
    return out


def _metric_sums(deployed_stack: DeployedStack, namespace: str) -> dict[tuple[str, str], float]:
    """(dataset, metric) -> Sum of every datum of the namespace's per-dataset metrics (the session's runs are
    within a day). Metrics with more dimensions (the quality rules', per rule) are not the run's counts."""
    cw = deployed_stack.client("cloudwatch")
    now = dt.datetime.now(dt.UTC)
    sums: dict[tuple[str, str], float] = {}
    for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace):
        for m in page["Metrics"]:
            if [d["Name"] for d in m["Dimensions"]] != ["Dataset"]:
                continue
            (dim,) = m["Dimensions"]
            points = cw.get_metric_statistics(Namespace=namespace, MetricName=m["MetricName"], Dimensions=m["Dimensions"],
                                              StartTime=now - dt.timedelta(days=1), EndTime=now + dt.timedelta(hours=1),
                                              Period=3600, Statistics=["Sum"])["Datapoints"]
            sums[(dim["Value"], m["MetricName"])] = sum(p["Sum"] for p in points)
    return sums


@pytest.fixture(scope="module")
def settled(deployed_stack: DeployedStack, tmp_path_factory):
    """Reports and metrics once no Glue job run is in flight; a run of the sample if the suite made none."""
    started = time.monotonic()
    wait_for(lambda: _job_runs_finished(deployed_stack), DEADLINE_S, "every Glue job run to finish", interval=2.0)
    made_run = False
    if not _reports(deployed_stack, "ingest"):
        with stack_environment(deployed_stack, tmp_path_factory.mktemp("metrics")):
            summary, _ = local_lake.run_file(SAMPLE, "entities", DEADLINE_S)
        assert summary["status"] == "SUCCEEDED", summary
        made_run = True
        wait_for(lambda: _job_runs_finished(deployed_stack), DEADLINE_S, "the sample's job runs to finish", interval=2.0)
    job = deployed_stack.client("glue").get_job(JobName=deployed_stack.outputs["glue_job_names"]["ingest"])["Job"]
    namespace = job["DefaultArguments"]["--metrics_namespace"]
    result = {"namespace": namespace, "ingest": _reports(deployed_stack, "ingest"),
              "views": _reports(deployed_stack, "views"), "metrics": _metric_sums(deployed_stack, namespace)}
    print(f"\nmetrics e2e: {len(result['ingest'])} ingest reports, {len(result['metrics'])} metric series, "
          f"own run: {made_run}, {time.monotonic() - started:.1f} s")
    return result


def test_ingest_metrics_add_up_to_the_reports_per_dataset(settled):
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for dataset, report in settled["ingest"]:
        for metric, key in REPORT_COUNTS.items():
            expected[(dataset, metric)] += report[key]
        expected[(dataset, "IngestSucceeded")] += 1
    got = {k: v for k, v in settled["metrics"].items() if k[1] in {*REPORT_COUNTS, "IngestSucceeded"}}
    assert got == dict(expected)
    assert any(v > 0 for (_, m), v in got.items() if m == "RowsRead"), "some run read rows"
    datasets = {d for d, _ in settled["ingest"]}
    assert all(settled["metrics"].get((d, "IngestSeconds"), 0) > 0 for d in datasets), "every dataset's durations"


def test_view_metrics_add_up_to_the_successful_view_runs(settled):
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for dataset, report in settled["views"]:
        if report.get("failed") or report.get("conflicts"):  # the job failed after its report: no metrics
            continue
        expected[(dataset, "Views")] += len(report["views"])
        expected[(dataset, "ViewsDropped")] += len(report["dropped"])
    got = {k: v for k, v in settled["metrics"].items() if k[1] in ("Views", "ViewsDropped")}
    assert got == dict(expected) and got


def test_namespace_is_the_stacks_and_the_dashboard_and_alarms_are_deployed(settled, deployed_stack: DeployedStack):
    assert settled["namespace"] == "lakepipe/local"
    cw = deployed_stack.client("cloudwatch")
    body = json.loads(cw.get_dashboard(DashboardName="lakepipe-local-pipeline")["DashboardBody"])
    charted = {(q[0], q[1], q[3]) for w in body["widgets"] for q in w["properties"]["metrics"] if isinstance(q[0], str)}
    for dataset in deployed_stack.outputs["datasets"]:
        assert {("lakepipe/local", m, dataset) for m in ("RowsRead", "RowsLoaded", "RowsRejected")} <= charted
    alarms = {a["AlarmName"]: a for page in cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix="lakepipe-local-")
              for a in page["MetricAlarms"]}
    for dataset in deployed_stack.outputs["datasets"]:
        ratio = alarms[f"lakepipe-local-{dataset}-reject-ratio"]
        assert ratio["AlarmActions"] == [deployed_stack.outputs["failure_topic_arn"]]
        assert {q["Id"] for q in ratio["Metrics"]} == {"ratio", "rowsread", "rowsrejected"}
    assert {f"lakepipe-local-{k}-job-failed" for k in ("ingest", "views")} <= set(alarms)
