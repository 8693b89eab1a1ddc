"""Time the two jobs' lakepipe logic in local Spark (2 cores here) and print the figures.

- ingest: a 1,000,000-row CSV in the seed shape (20 split values x 50 keys x 1,000 id combos) into a
  new Iceberg table, then the same file again (no changes: nothing to commit);
- views: the view job over that table = 20 split values x 50 keys, views written to a moto Glue
  (first run creates, second finds every view unchanged).

Usage: .venv/bin/python tools/bench_jobs.py [--rows 1000000] (make bench; takes the heavy lock there).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_csv(path: Path, rows: int, splits: int = 20, keys: int = 50) -> None:
    ids = rows // (splits * keys)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["entity1", "entity2", "entity3", "entity4", "key", "value"])
        for s in range(splits):
            for i in range(ids):
                for k in range(keys):
                    w.writerow([f"Entity {s:02d}", f"e2-{i % 97}", f"e3-{i}", f"e4-{i % 7}", f"metric_{k:02d}",
                                f"{(s * 31 + i * 17 + k) % 100003}.{k}"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    import boto3
    from moto.server import ThreadedMotoServer

    from lakepipe.ingest import run_ingest
    from lakepipe.spec import parse_spec
    from lakepipe.views import CatalogTarget, run_views
    from localcloud.net import free_port
    from localcloud.spark_runtime import local_spark_session

    work = Path(tempfile.mkdtemp(prefix="lakepipe-bench-"))
    src = work / "bench.csv"
    t = time.perf_counter()
    make_csv(src, args.rows)
    print(f"generated {args.rows:,} rows ({src.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    spark = local_spark_session("lakepipe-bench", {"glue_catalog": str(work / "catalog")})
    spark.range(1).collect()
    print(f"spark session start: {time.perf_counter() - t:.1f}s")
    spec = parse_spec({"name": "bench", "raw_prefix": "in/bench/", "target": "glue", "database": "lake", "table": "bench"})

    figures = {}
    for label, run_id in (("ingest, new table", "b1"), ("ingest, same file again", "b2")):
        t = time.perf_counter()
        res = run_ingest(spark, spec, source_uri=f"file://{src}", source_version="v1", run_id=run_id,
                         rejects_location=f"file://{work}/rejects/", glue_catalog="glue_catalog")
        figures[label] = time.perf_counter() - t
        print(f"{label}: {figures[label]:.1f}s  (read {res.rows_read:,}, loaded {res.rows_loaded:,}, "
              f"rejected {res.rows_rejected:,}); phases {res.seconds}")

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    glue = boto3.client("glue", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    glue.create_database(DatabaseInput={"Name": "lake"})
    target = CatalogTarget("aws", "us-east-1", "123456789012")
    try:
        for label in ("views, first run", "views, unchanged"):
            t = time.perf_counter()
            rep = run_views(spark, spec, glue=glue, target=target,
                            definer_role_arn="arn:aws:iam::123456789012:role/definer", glue_catalog="glue_catalog")
            figures[label] = time.perf_counter() - t
            actions = sorted({v["action"] for v in rep["views"]})
            print(f"{label}: {figures[label]:.1f}s  ({len(rep['views'])} views x "
                  f"{rep['views'][0]['columns'] - 4} keys, actions {actions})")
        # for scale: what querying all 20 views costs in Spark (not part of the job)
        t = time.perf_counter()
        spark.catalog.setCurrentCatalog("glue_catalog")
        for v in rep["views"]:
            sql = glue.get_table(DatabaseName="lake", Name=v["view"].split(".")[1])["Table"]["ViewDefinition"]
            spark_sql = next(r["ViewOriginalText"] for r in sql["Representations"] if r["Dialect"] == "SPARK")
            spark.sql(spark_sql).collect()
        figures["query all views (Spark)"] = time.perf_counter() - t
        print(f"query all {len(rep['views'])} views' SPARK SQL: {figures['query all views (Spark)']:.1f}s")
    finally:
        server.stop()
        spark.stop()
    print("FIGURES " + " | ".join(f"{k}: {v:.1f}s" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
