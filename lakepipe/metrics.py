"""The jobs' custom CloudWatch metrics: what each run read, loaded and rejected, per dataset.

The Glue entry scripts (glue_jobs/*.py) call `emit_ingest_metrics` / `emit_view_metrics` with the report
the job returned. One PutMetricData call per run, in the stack's namespace (`--metrics_namespace`, set by
terraform/modules/glue_jobs; the job roles may put metrics into that namespace only), dimension
`Dataset`. terraform/modules/monitoring charts them and alarms on them (reject ratio, no successful
load for N hours), so the names here and there must agree.

A run whose metrics cannot be put still succeeds: the load is done, and a monitoring outage must not
turn it into a failed run (and a retry). The error is logged with the namespace and the metrics.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

DIMENSION = "Dataset"
# Ingest report key -> metric name (all Count).
INGEST_COUNTS = {
    "rows_read": "RowsRead",
    "rows_loaded": "RowsLoaded",
    "rows_rejected": "RowsRejected",
    "rows_changed": "RowsChanged",
}
INGEST_SUCCEEDED = "IngestSucceeded"  # 1 per finished ingest run (also a no-op re-run): the freshness alarm's input
INGEST_SECONDS = "IngestSeconds"
VIEWS = "Views"  # views the run wrote or left as they were
VIEWS_CHANGED = "ViewsChanged"  # created or updated
VIEWS_DROPPED = "ViewsDropped"
VIEW_SECONDS = "ViewSeconds"


def _datum(name: str, dataset: str, value: float, unit: str, at: dt.datetime) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": [{"Name": DIMENSION, "Value": dataset}], "Timestamp": at,
            "Value": float(value), "Unit": unit}


def ingest_metric_data(dataset: str, report: dict[str, Any], seconds: float,
                       at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """MetricData of one ingest run (lakepipe.ingest's report): row counts, success, duration."""
    at = at or dt.datetime.now(dt.UTC)
    data = [_datum(name, dataset, report[key], "Count", at) for key, name in INGEST_COUNTS.items()]
    data.append(_datum(INGEST_SUCCEEDED, dataset, 1, "Count", at))
    data.append(_datum(INGEST_SECONDS, dataset, seconds, "Seconds", at))
    return data


def view_metric_data(dataset: str, report: dict[str, Any], seconds: float,
                     at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """MetricData of one view run (lakepipe.views' report): views kept, changed, dropped; duration."""
    at = at or dt.datetime.now(dt.UTC)
    views = report.get("views", [])
    changed = sum(1 for v in views if v.get("action") in ("created", "updated"))
    return [
        _datum(VIEWS, dataset, len(views), "Count", at),
        _datum(VIEWS_CHANGED, dataset, changed, "Count", at),
        _datum(VIEWS_DROPPED, dataset, len(report.get("dropped", [])), "Count", at),
        _datum(VIEW_SECONDS, dataset, seconds, "Seconds", at),
    ]


def put_metrics(namespace: str, data: list[dict[str, Any]], cloudwatch=None) -> bool:
    """PutMetricData; False (logged) instead of raising, so that a good run stays good."""
    try:
        if cloudwatch is None:
            import boto3

            cloudwatch = boto3.client("cloudwatch")
        # One call: a run has at most 6 data (PutMetricData takes 1,000).
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)
    except Exception:
        log.exception("could not put %d metrics into CloudWatch namespace %r (the run itself succeeded): %s",
                      len(data), namespace, [(d["MetricName"], d["Value"]) for d in data])
        return False
    log.info("put %d metrics into CloudWatch namespace %r", len(data), namespace)
    return True


def _emit(args: dict[str, str], build, report: dict[str, Any], seconds: float, cloudwatch) -> bool:
    namespace = args.get("metrics_namespace")
    if not namespace:
        log.warning("no --metrics_namespace: the run's metrics are not put into CloudWatch")
        return False
    try:
        # The job validated the spec before it produced its report.
        data = build(json.loads(args["dataset_spec"])["name"], report, seconds)
    except Exception:
        log.exception("could not build the run's metrics from its report (the run itself succeeded)")
        return False
    return put_metrics(namespace, data, cloudwatch)


def emit_ingest_metrics(args: dict[str, str], report: dict[str, Any], seconds: float, cloudwatch=None) -> bool:
    """The ingest entry script's call: args as getResolvedOptions returned them; False when nothing was put."""
    return _emit(args, ingest_metric_data, report, seconds, cloudwatch)


def emit_view_metrics(args: dict[str, str], report: dict[str, Any], seconds: float, cloudwatch=None) -> bool:
    """The view entry script's call: args as getResolvedOptions returned them; False when nothing was put."""
    return _emit(args, view_metric_data, report, seconds, cloudwatch)
