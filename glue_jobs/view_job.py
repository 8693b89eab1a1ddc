"""Glue 5.0 entry script: one Glue Data Catalog multi-dialect view per split value (lakepipe.views).

Arguments (docs/design.md): --dataset_spec --run_id --runs_location --definer_role_arn
[--glue_catalog] [--s3tables_catalog] [--s3tables_table_bucket] [--view_status_deadline_seconds] (how long
Glue may take to validate each view; default lakepipe.views.VIEW_STATUS_DEADLINE_S) [--metrics_namespace]
(CloudWatch namespace of the run's metrics, lakepipe.metrics). lakepipe comes from
--extra-py-files.
"""

import logging
import sys
import time

from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

from lakepipe.metrics import emit_view_metrics
from lakepipe.views import main

REQUIRED = ["dataset_spec", "run_id", "runs_location", "definer_role_arn"]
OPTIONAL = ["glue_catalog", "s3tables_catalog", "s3tables_table_bucket", "view_status_deadline_seconds",
            "metrics_namespace"]

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
args = getResolvedOptions(sys.argv, REQUIRED + [o for o in OPTIONAL if f"--{o}" in sys.argv])
spark = SparkSession.builder.getOrCreate()
started = time.monotonic()
report = main(spark, args)
emit_view_metrics(args, report, time.monotonic() - started)  # logs, never raises
