"""Glue 5.0 entry script: CSV file -> the dataset's Iceberg table (lakepipe.ingest).

Arguments (docs/design.md): --dataset_spec --source_uri --source_version --source_etag --run_id
--runs_location --rejects_location [--staging_location] [--glue_catalog] [--s3tables_catalog]
[--source_sequencer --source_event_time] (the S3 event's order; without both the load is unordered)
[--metrics_namespace] (CloudWatch namespace of the run's metrics, lakepipe.metrics).
--staging_location is required for s3:// sources (lakepipe.ingest.main says so when it is missing).
lakepipe comes from --extra-py-files (build/glue/lakepipe.zip).
"""

import logging
import sys
import time

from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

from lakepipe.ingest import main
from lakepipe.metrics import emit_ingest_metrics

REQUIRED = ["dataset_spec", "source_uri", "source_version", "source_etag", "run_id", "runs_location",
            "rejects_location"]
# getResolvedOptions fails on a listed option that is absent, so optional ones are listed only when given.
OPTIONAL = ["staging_location", "glue_catalog", "s3tables_catalog", "source_sequencer", "source_event_time",
            "metrics_namespace"]

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
args = getResolvedOptions(sys.argv, REQUIRED + [o for o in OPTIONAL if f"--{o}" in sys.argv])
spark = SparkSession.builder.getOrCreate()
started = time.monotonic()
report = main(spark, args)
emit_ingest_metrics(args, report, time.monotonic() - started)  # logs, never raises
