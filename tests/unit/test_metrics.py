"""lakepipe.metrics against moto's CloudWatch (in-process): the jobs' reports become the metrics that
terraform/modules/monitoring charts and alarms on, and a CloudWatch failure never fails the run. Also the
dataset spec's optional `monitoring` thresholds those alarms read (defaults, validation)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import boto3
import jsonschema
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from lakepipe import metrics
from lakepipe.ingest import IngestResult
from lakepipe.quality import FAILED_RULE_METRIC
from lakepipe.spec import SpecError, apply_defaults, load_schema, parse_spec, schema_errors

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "lakepipe/dev"
ARGS = {"dataset_spec": json.dumps({"name": "entities", "raw_prefix": "incoming/entities/", "target": "glue",
                                    "database": "lake", "table": "entities"}),
        "metrics_namespace": NAMESPACE}
INGEST_REPORT = IngestResult(table="lake.entities", source_uri="s3://raw/incoming/entities/a.csv", source_version="v1",
                             rows_read=120, rows_loaded=114, rows_rejected=6, rejects_location="s3://raw/rejects/x/",
                             rows_changed=100).report()
VIEW_REPORT = {"table_sequence_number": 3, "dropped": ["lake_views.entity_view_gone"], "views": [
    {"split_value": "ACME", "view": "lake_views.entity_view_acme", "columns": 8, "action": "created"},
    {"split_value": "BETA", "view": "lake_views.entity_view_beta", "columns": 8, "action": "unchanged"},
    {"split_value": "GAMMA", "view": "lake_views.entity_view_gamma", "columns": 8, "action": "updated"},
]}


@pytest.fixture
def cloudwatch():
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="eu-west-1")


def _sums(cloudwatch, dataset: str = "entities") -> dict[str, float]:
    """Sum of every metric of the namespace over the last hour, for one dataset."""
    now = dt.datetime.now(dt.UTC)
    out = {}
    for m in cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]:
        assert m["Dimensions"] == [{"Name": "Dataset", "Value": dataset}]
        points = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName=m["MetricName"], Dimensions=m["Dimensions"], StartTime=now - dt.timedelta(hours=1),
            EndTime=now + dt.timedelta(minutes=5), Period=3600, Statistics=["Sum"])["Datapoints"]
        out[m["MetricName"]] = sum(p["Sum"] for p in points)
    return out


def test_ingest_report_becomes_row_counts_success_and_duration(cloudwatch):
    assert metrics.emit_ingest_metrics(ARGS, INGEST_REPORT, 12.5, cloudwatch) is True
    assert _sums(cloudwatch) == {"RowsRead": 120, "RowsLoaded": 114, "RowsRejected": 6, "RowsChanged": 100,
                                 "IngestSucceeded": 1, "IngestSeconds": 12.5}


def test_runs_add_up_per_dataset(cloudwatch):
    metrics.emit_ingest_metrics(ARGS, INGEST_REPORT, 10, cloudwatch)
    metrics.emit_ingest_metrics(ARGS, {**INGEST_REPORT, "rows_read": 5, "rows_rejected": 5, "rows_loaded": 0}, 3,
                                cloudwatch)
    sums = _sums(cloudwatch)
    assert (sums["RowsRead"], sums["RowsRejected"], sums["IngestSucceeded"]) == (125, 11, 2)


def test_units_are_count_and_seconds():
    data = {d["MetricName"]: d for d in metrics.ingest_metric_data("entities", INGEST_REPORT, 2.0)}
    assert {n for n, d in data.items() if d["Unit"] == "Seconds"} == {"IngestSeconds"}
    assert all(d["Unit"] == "Count" for n, d in data.items() if n != "IngestSeconds")
    assert len({d["Timestamp"] for d in data.values()}) == 1, "one run, one timestamp"


def test_the_jobs_put_exactly_the_metrics_terraform_watches():
    """terraform/modules/monitoring reads metrics.json for its dashboard and alarms (reject ratio, freshness)."""
    watched = json.loads((REPO / "terraform" / "modules" / "monitoring" / "metrics.json").read_text())
    put = {d["MetricName"] for d in metrics.ingest_metric_data("x", INGEST_REPORT, 1.0) + metrics.view_metric_data(
        "x", VIEW_REPORT, 1.0)}
    assert set(watched["metrics"].values()) == put
    assert watched["dimension"] == metrics.DIMENSION
    assert {watched["metrics"][k] for k in ("rows_read", "rows_rejected", "ingest_succeeded")} == {
        metrics.INGEST_COUNTS["rows_read"], metrics.INGEST_COUNTS["rows_rejected"], metrics.INGEST_SUCCEEDED}


def test_the_dashboard_searches_the_quality_rules_metric():
    watched = json.loads((REPO / "terraform" / "modules" / "monitoring" / "metrics.json").read_text())
    assert watched["quality_rule_failed_rows"] == FAILED_RULE_METRIC


def test_view_report_becomes_view_counts(cloudwatch):
    assert metrics.emit_view_metrics(ARGS, VIEW_REPORT, 4.0, cloudwatch) is True
    assert _sums(cloudwatch) == {"Views": 3, "ViewsChanged": 2, "ViewsDropped": 1, "ViewSeconds": 4.0}


def test_cloudwatch_refusal_is_logged_and_the_run_stays_good(caplog):
    client = boto3.client("cloudwatch", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error("put_metric_data", service_error_code="AccessDenied", http_status_code=403,
                              service_message="not authorized to perform: cloudwatch:PutMetricData")
        with caplog.at_level(logging.ERROR, logger="lakepipe.metrics"):
            assert metrics.emit_ingest_metrics(ARGS, INGEST_REPORT, 1.0, client) is False
        stub.assert_no_pending_responses()
    assert NAMESPACE in caplog.text and "RowsRejected" in caplog.text and "AccessDenied" in caplog.text


def test_unusable_report_is_logged_not_raised(cloudwatch, caplog):
    with caplog.at_level(logging.ERROR, logger="lakepipe.metrics"):
        assert metrics.emit_ingest_metrics(ARGS, {"table": "lake.entities"}, 1.0, cloudwatch) is False
    assert "rows_read" in caplog.text
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"] == []


def test_without_a_namespace_nothing_is_put(cloudwatch, caplog):
    args = {k: v for k, v in ARGS.items() if k != "metrics_namespace"}
    with caplog.at_level(logging.WARNING, logger="lakepipe.metrics"):
        assert metrics.emit_ingest_metrics(args, INGEST_REPORT, 1.0, cloudwatch) is False
    assert "--metrics_namespace" in caplog.text
    assert cloudwatch.list_metrics()["Metrics"] == []


def test_the_default_client_is_boto3s(monkeypatch):
    """Without an injected client the job uses boto3's default chain (the job role, the job's region)."""
    made = []

    def fake_client(service, *a, **kw):
        made.append(service)
        raise ClientError({"Error": {"Code": "Stop", "Message": "stop"}}, "PutMetricData")

    monkeypatch.setattr(boto3, "client", fake_client)
    assert metrics.put_metrics(NAMESPACE, metrics.ingest_metric_data("entities", INGEST_REPORT, 1.0)) is False
    assert made == ["cloudwatch"]


# ---- the dataset spec's optional `monitoring` object (datasets/dataset.schema.json, lakepipe.spec) ----------

SPEC = json.loads(ARGS["dataset_spec"])


def test_specs_without_monitoring_get_the_schema_defaults():
    spec = parse_spec(SPEC)
    assert spec.monitoring == {"max_reject_ratio": 0.05, "expected_cadence_hours": None}
    assert parse_spec({**SPEC, "monitoring": {"expected_cadence_hours": 24}}).monitoring == {
        "max_reject_ratio": 0.05, "expected_cadence_hours": 24}
    assert parse_spec(spec.to_dict()) == spec and hash(spec) == hash(parse_spec(spec.to_dict()))


@pytest.mark.parametrize("monitoring,message", [
    ({"max_reject_ratio": 1.5}, "greater than the maximum 1"),
    ({"max_reject_ratio": -0.1}, "less than the minimum 0"),
    ({"max_reject_ratio": "5%"}, "expected number"),
    ({"expected_cadence_hours": 0}, "less than the minimum 1"),
    ({"expected_cadence_hours": 169}, "greater than the maximum 168"),
    ({"expected_cadence_hours": 1.5}, "expected integer or null"),
    ({"expected_cadence_hours": True}, "expected integer or null"),
    ({"cadence": 24}, "unknown property 'cadence'"),
])
def test_bad_monitoring_fields_are_refused(monitoring, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**SPEC, "monitoring": monitoring})


@pytest.mark.parametrize("monitoring", [{}, {"max_reject_ratio": 0}, {"max_reject_ratio": 1}, {"max_reject_ratio": 0.2},
                                        {"expected_cadence_hours": None}, {"expected_cadence_hours": 168},
                                        {"max_reject_ratio": 1.01}, {"expected_cadence_hours": 0},
                                        {"expected_cadence_hours": 2.5}, {"max_reject_ratio": None}, {"x": 1}])
def test_own_validator_agrees_with_jsonschema_on_monitoring(monitoring):
    schema = load_schema()
    full = apply_defaults({**SPEC, "monitoring": monitoring}, schema)
    theirs_ok = not list(jsonschema.Draft202012Validator(schema).iter_errors(full))
    assert (not schema_errors(full, schema)) == theirs_ok, monitoring
