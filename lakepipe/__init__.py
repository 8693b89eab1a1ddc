"""lakepipe: CSV-to-Iceberg ingest and pivoted multi-dialect Glue views.

Pure-Python modules (spec, naming, viewsql, rules, events, recorder, s3util) import
nothing beyond the standard library and sqlglot, so the Lambdas can use them; the Spark
modules (ingest, views) import pyspark lazily inside their functions' modules only.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
