"""Glue 5.0 entry script: maintenance of one dataset's Iceberg tables (lakepipe.maintenance).

Arguments: --dataset_spec --run_id --runs_location [--settings] (JSON: target_file_size_mb,
snapshot_retention_hours, min_snapshots_to_keep, orphan_file_retention_hours, s3tables_table_bucket_arn)
[--other_tables] (JSON list: the other datasets' table names in the same database) [--glue_catalog].
lakepipe comes from --extra-py-files.
"""

import logging
import sys

from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

from lakepipe.maintenance import main

REQUIRED = ["dataset_spec", "run_id", "runs_location"]
OPTIONAL = ["settings", "other_tables", "glue_catalog"]

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
args = getResolvedOptions(sys.argv, REQUIRED + [o for o in OPTIONAL if f"--{o}" in sys.argv])
spark = SparkSession.builder.getOrCreate()
main(spark, args)
