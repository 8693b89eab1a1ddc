"""The Glue jobs' default arguments as terraform/modules/glue_jobs renders them (docs/design.md), for
running the real job scripts outside AWS: tools/bench_local.py and tests/pipeline/test_glue_scripts*.py.
The union of both jobs' defaults is returned; each script reads only the options it knows."""

from __future__ import annotations

GLUE_CATALOG = "glue_catalog"
S3TABLES_CATALOG = "s3tables_catalog"


def _catalog(name: str, warehouse: str, **options: str) -> list[str]:
    p = f"spark.sql.catalog.{name}"
    return [f"{p}=org.apache.iceberg.spark.SparkCatalog",
            f"{p}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
            f"{p}.warehouse={warehouse}",
            f"{p}.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
            *(f"{p}.{k.replace('_', '.')}={v}" for k, v in options.items())]


def spark_conf(warehouse_bucket: str, *, table_bucket: str | None = None, account_id: str = "123456789012") -> str:
    """The single `--conf` value: Iceberg extensions, the Glue catalog and, with a table bucket, the
    S3 Tables catalog (GlueCatalog on the federated `<account>:s3tablescatalog/<bucket>`)."""
    entries = ["spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
               *_catalog(GLUE_CATALOG, f"s3://{warehouse_bucket}/iceberg/")]
    if table_bucket:
        entries += _catalog(S3TABLES_CATALOG, f"s3://{table_bucket}/warehouse/",
                            glue_id=f"{account_id}:s3tablescatalog/{table_bucket}")
    return " --conf ".join(entries)


def default_arguments(*, raw_bucket: str, artifacts_bucket: str, warehouse_bucket: str, definer_role_arn: str,
                      table_bucket: str | None = None) -> dict[str, str]:
    args = {
        "--conf": spark_conf(warehouse_bucket, table_bucket=table_bucket),
        "--datalake-formats": "iceberg",
        "--extra-py-files": f"s3://{artifacts_bucket}/glue/lakepipe.zip",
        "--runs_location": f"s3://{artifacts_bucket}/runs/",
        "--rejects_location": f"s3://{raw_bucket}/rejects/",
        "--staging_location": f"s3://{raw_bucket}/staging/",
        "--definer_role_arn": definer_role_arn,
        "--glue_catalog": GLUE_CATALOG,
        "--s3tables_catalog": S3TABLES_CATALOG,
    }
    if table_bucket:
        args["--s3tables_table_bucket"] = table_bucket
    return args
