"""The Glue jobs' default arguments for running the real job scripts outside AWS (tools/bench_local.py,
tests/pipeline/test_glue_scripts*.py): rendered from terraform/modules/glue_jobs/job_arguments.json,
the one definition the deployed jobs are rendered from too (Terraform's templatefile; both renderers
substitute the same `${name}` placeholders). tests/unit/test_glue_job_args.py checks this module against
the jobs of the planned dev and prod stacks (terraform/plan-snapshots).

`default_arguments` returns the union of both jobs' defaults (each script reads only the options it
knows); `job_arguments` one job's, exactly as Terraform renders it.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).resolve().parents[1] / "terraform" / "modules" / "glue_jobs" / "job_arguments.json"
GLUE_CATALOG = "glue_catalog"
S3TABLES_CATALOG = "s3tables_catalog"
LOCAL_ACCOUNT_ID = "123456789012"  # the local endpoint's account (moto's default)


def shuffle_partitions(worker_type: str, number_of_workers: int) -> int:
    """spark.sql.shuffle.partitions for an ingest job of these workers, as modules/glue_jobs computes it."""
    rule = json.loads(TEMPLATE.read_text())["shuffle_partitions"]
    return rule["per_task_slot"] * (number_of_workers - 1) * rule["worker_vcpus"][worker_type]


def _render(*, raw_bucket: str, artifacts_bucket: str, warehouse_bucket: str, table_bucket: str | None,
            account_id: str, package_key: str, log_group: str, runs_prefix: str, rejects_prefix: str,
            staging_prefix: str, warehouse_prefix: str, metrics_namespace: str, worker_type: str,
            number_of_workers: int) -> dict:
    text = Template(TEMPLATE.read_text()).substitute(
        shuffle_partitions=shuffle_partitions(worker_type, number_of_workers),
        account_id=account_id, glue_catalog=GLUE_CATALOG, s3tables_catalog=S3TABLES_CATALOG,
        table_bucket=table_bucket or "", raw_bucket=raw_bucket, warehouse_bucket=warehouse_bucket,
        artifacts_bucket=artifacts_bucket, warehouse_prefix=warehouse_prefix, runs_prefix=runs_prefix,
        rejects_prefix=rejects_prefix, staging_prefix=staging_prefix, package_key=package_key, log_group=log_group,
        metrics_namespace=metrics_namespace)
    return json.loads(text)


def _conf(rendered: dict, table_bucket: str | None) -> str:
    conf = rendered["spark_conf"]
    return " --conf ".join(conf["session"] + conf["glue_catalog"] + (conf["s3tables_catalog"] if table_bucket else []))


def spark_conf(warehouse_bucket: str, *, table_bucket: str | None = None, account_id: str = LOCAL_ACCOUNT_ID) -> str:
    """The single `--conf` value: Iceberg extensions, the Glue catalog and, with a table bucket, the
    S3 Tables catalog (GlueCatalog on the federated `<account>:s3tablescatalog/<bucket>`)."""
    return job_arguments("ingest", raw_bucket="", artifacts_bucket="", warehouse_bucket=warehouse_bucket,
                         definer_role_arn="", table_bucket=table_bucket, account_id=account_id)["--conf"]


def job_arguments(job: str, *, raw_bucket: str, artifacts_bucket: str, warehouse_bucket: str, definer_role_arn: str,
                  table_bucket: str | None = None, account_id: str = LOCAL_ACCOUNT_ID,
                  package_key: str = "glue/lakepipe.zip", log_group: str = "/aws-glue/jobs/lakepipe-local",
                  runs_prefix: str = "runs/", rejects_prefix: str = "rejects/", staging_prefix: str = "staging/",
                  warehouse_prefix: str = "iceberg/", metrics_namespace: str = "lakepipe/local",
                  worker_type: str = "G.1X", number_of_workers: int = 2) -> dict[str, str]:
    """DefaultArguments of the ingest (`job="ingest"`), view (`job="views"`) or maintenance (`job="maintenance"`) job. The defaults of the
    keyword arguments are what the local tools upload (the package at glue/lakepipe.zip) and the ingest
    job's workers of modules/glue_jobs' defaults; Terraform passes the stack's own (a content-addressed
    package key, the stack's log group, its workers)."""
    rendered = _render(raw_bucket=raw_bucket, artifacts_bucket=artifacts_bucket, warehouse_bucket=warehouse_bucket,
                       table_bucket=table_bucket, account_id=account_id, package_key=package_key, log_group=log_group,
                       runs_prefix=runs_prefix, rejects_prefix=rejects_prefix, staging_prefix=staging_prefix,
                       warehouse_prefix=warehouse_prefix, metrics_namespace=metrics_namespace,
                       worker_type=worker_type, number_of_workers=number_of_workers)
    parts = rendered["arguments"]
    args = {**parts["common"], "--conf": _conf(rendered, table_bucket), **parts[job]}
    if job == "views":
        args["--definer_role_arn"] = definer_role_arn
        if table_bucket:
            args |= parts["views_s3tables"]
    return args


def default_arguments(*, raw_bucket: str, artifacts_bucket: str, warehouse_bucket: str, definer_role_arn: str,
                      table_bucket: str | None = None, **names: str) -> dict[str, str]:
    """Both jobs' DefaultArguments in one dict (the scripts ignore options they do not read)."""
    common = dict(raw_bucket=raw_bucket, artifacts_bucket=artifacts_bucket, warehouse_bucket=warehouse_bucket,
                  definer_role_arn=definer_role_arn, table_bucket=table_bucket, **names)
    return {**job_arguments("ingest", **common), **job_arguments("views", **common)}
