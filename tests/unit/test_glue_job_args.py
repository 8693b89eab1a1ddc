"""The local tools' Glue job arguments (tools/glue_job_args.py) are the deployed jobs' arguments.

Both are rendered from terraform/modules/glue_jobs/job_arguments.json. The reference for "deployed" is
the committed offline plan of dev (with an S3 table bucket) and prod (without): `make tf-check` fails when
those snapshots differ from what Terraform plans now, and this test fails when tools/glue_job_args.py
renders anything else than the planned DefaultArguments of the ingest job. The view job's arguments hold
the definer role's ARN, so the provider plans them as a whole as known after apply: tests/e2e/
test_job_arguments.py compares both jobs of the applied local stack.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.glue_job_args import default_arguments, job_arguments, shuffle_partitions, spark_conf

REPO = Path(__file__).resolve().parents[2]
UNKNOWN = "(known after apply)"  # tools/terraform/plan-snapshot.py
ACCOUNT_ID = "123456789012"  # tools/terraform/plan-offline.sh


def _planned(env: str) -> dict[str, dict]:
    snap = json.loads((REPO / "terraform" / "plan-snapshots" / f"{env}.json").read_text())

    def one(suffix: str) -> dict:
        (values,) = [r["values"] for a, r in snap.items() if a.endswith(suffix)]
        return values

    tables = [r["values"]["name"] for a, r in snap.items() if a.endswith("aws_s3tables_table_bucket.this")]
    return {
        "names": {
            "raw_bucket": one('aws_s3_bucket.data["raw"]')["bucket"],
            "artifacts_bucket": one('aws_s3_bucket.data["artifacts"]')["bucket"],
            "warehouse_bucket": one('aws_s3_bucket.data["warehouse"]')["bucket"],
            "table_bucket": tables[0] if tables else None,
            "account_id": ACCOUNT_ID,
            "package_key": one("module.glue_jobs.aws_s3_object.package")["key"],
            "log_group": one("module.glue_jobs.aws_cloudwatch_log_group.jobs")["name"],
            "definer_role_arn": "arn:aws:iam::123456789012:role/unused-by-the-ingest-job",
            "metrics_namespace": f"lakepipe/{env}",  # modules/stack's default, <name_prefix>/<environment>
            "worker_type": one("module.glue_jobs.aws_glue_job.ingest")["worker_type"],
            "number_of_workers": one("module.glue_jobs.aws_glue_job.ingest")["number_of_workers"],
        },
        "ingest": one("module.glue_jobs.aws_glue_job.ingest")["default_arguments"],
        "views": one("module.glue_jobs.aws_glue_job.views")["default_arguments"],
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_tools_render_the_planned_ingest_job_arguments(env):
    planned = _planned(env)
    assert job_arguments("ingest", **planned["names"]) == planned["ingest"]
    assert planned["views"] == UNKNOWN  # compared after apply, in tests/e2e/test_job_arguments.py


def test_both_environments_are_covered():
    """dev plans the S3 Tables catalog and prod does not: the two branches of the template are compared."""
    assert _planned("dev")["names"]["table_bucket"] and "s3tables_catalog.glue.id=" in _planned("dev")["ingest"]["--conf"]
    assert _planned("prod")["names"]["table_bucket"] is None and "s3tables" not in _planned("prod")["ingest"]["--conf"]


def test_local_defaults_are_both_jobs_with_the_local_package():
    args = default_arguments(raw_bucket="raw", artifacts_bucket="art", warehouse_bucket="wh", definer_role_arn="arn:d")
    assert args["--extra-py-files"] == "s3://art/glue/lakepipe.zip"
    assert args["--rejects_location"] == "s3://raw/rejects/" and args["--definer_role_arn"] == "arn:d"
    assert args["--job-bookmark-option"] == "job-bookmark-disable" and "--enable-glue-datacatalog" not in args
    assert args["--conf"] == spark_conf("wh")
    assert "--s3tables_table_bucket" not in args


def test_spark_conf_with_a_table_bucket_adds_the_federated_catalog():
    conf = spark_conf("wh", table_bucket="tb", account_id="111122223333").split(" --conf ")
    assert conf[0] == "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    assert "spark.sql.catalog.glue_catalog.warehouse=s3://wh/iceberg/" in conf
    assert "spark.sql.catalog.s3tables_catalog.glue.id=111122223333:s3tablescatalog/tb" in conf


def test_shuffle_partitions_are_two_per_task_slot_of_the_ingest_workers():
    """One worker runs the driver; each other one executor with a task slot per vCPU."""
    assert shuffle_partitions("G.1X", 2) == 8 and shuffle_partitions("G.2X", 10) == 144
    assert shuffle_partitions("G.025X", 3) == 8
    for env in ("dev", "prod"):
        planned = _planned(env)
        expected = shuffle_partitions(planned["names"]["worker_type"], planned["names"]["number_of_workers"])
        assert f"spark.sql.shuffle.partitions={expected}" in planned["ingest"]["--conf"].split(" --conf ")
