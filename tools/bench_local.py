"""`make bench`: the pipeline's two Glue jobs through the local Glue executor vs DuckDB on one machine.

Generates narrow data (--rows, --splits, --keys), runs the REAL job scripts (ingest, then views)
through localcloud's Glue runner against a moto server, exactly as the local endpoint's StartJobRun
does (JVM start, catalog sync and S3 mirror included), then the same load and the same pivots in
DuckDB as the single-machine reference. Prints figures and ratios; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localcloud.net import free_port
from tools.bench_jobs import make_csv
from tools.glue_job_args import default_arguments

REGION = "us-east-1"
RAW, ARTIFACTS, WAREHOUSE = "bench-raw", "bench-artifacts", "bench-warehouse"


def duckdb_reference(csv_path: Path, spec, splits: list[str]) -> tuple[float, float]:
    """Seconds to load the CSV into a table and to run one MAX(CASE ...) pivot per split value."""
    import duckdb

    from lakepipe.viewsql import build_view

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header=true, all_varchar=true)", [str(csv_path)])
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    for split in splits:
        keys = [r[0] for r in con.execute(
            f'SELECT DISTINCT "{spec.key_column}" FROM t WHERE "{spec.split_column}" = ?', [split]).fetchall()]
        # The same sqlglot definition the view job renders, here for DuckDB over table t.
        sql = build_view(spec, split, keys, view_name="v").query.transform(_retarget).sql(dialect="duckdb")
        con.execute(sql).fetchall()
    return load_s, time.perf_counter() - t


def _retarget(node):
    from sqlglot import exp

    if isinstance(node, exp.Table):
        return exp.to_table("t")
    return node


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--keys", type=int, default=50)
    args = ap.parse_args()

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    from lakepipe.spec import load_spec_file
    from localcloud.glue.runner import run_glue_script

    glue_zip = ROOT / "build" / "glue" / "lakepipe.zip"
    if not glue_zip.is_file():
        print(f"{glue_zip} missing: run `make package`", file=sys.stderr)
        return 1
    spec = load_spec_file(ROOT / "datasets" / "entities.json")
    work = Path(tempfile.mkdtemp(prefix="lakepipe-bench-"))
    src = work / "bench.csv"
    t = time.perf_counter()
    make_csv(src, args.rows, splits=args.splits, keys=args.keys)
    print(f"generated {args.rows:,} rows, {args.splits} split values x {args.keys} keys "
          f"({src.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s")

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    kw = {"region_name": REGION, "endpoint_url": url, "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    s3, glue = boto3.client("s3", **kw), boto3.client("glue", **kw)
    try:
        for b in (RAW, ARTIFACTS, WAREHOUSE):
            s3.create_bucket(Bucket=b)
        for script in ("ingest_job.py", "view_job.py"):
            s3.upload_file(str(ROOT / "glue_jobs" / script), ARTIFACTS, f"glue/{script}")
        s3.upload_file(str(glue_zip), ARTIFACTS, "glue/lakepipe.zip")
        key = f"{spec.raw_prefix}bench.csv"
        s3.upload_file(str(src), RAW, key)
        etag = s3.head_object(Bucket=RAW, Key=key)["ETag"].strip('"')
        for db in sorted({spec.database, spec.views_database}):
            glue.create_database(DatabaseInput={"Name": db})
        defaults = default_arguments(raw_bucket=RAW, artifacts_bucket=ARTIFACTS, warehouse_bucket=WAREHOUSE,
                                     definer_role_arn="arn:aws:iam::123456789012:role/bench-definer")
        spec_json = json.dumps(spec.to_dict())
        runs = [
            # an unversioned bucket: the version is the ETag, as the trigger Lambda passes it
            ("ingest", "ingest_job.py", {"--source_uri": f"s3://{RAW}/{key}", "--source_version": etag,
                                         "--source_etag": etag}),
            ("views", "view_job.py", {}),
        ]
        seconds: dict[str, float] = {}
        for label, script, extra in runs:
            args_ = {**defaults, "--dataset_spec": spec_json, "--run_id": "bench-1", **extra}
            result = run_glue_script(f"s3://{ARTIFACTS}/glue/{script}", args_, endpoint_url=url,
                                     state_dir=work / "state", timeout_s=3600, log_path=work / f"{label}.log",
                                     job_name=f"bench-{label}", region=REGION)
            if result.state != "SUCCEEDED":
                print(f"{label} job {result.state}: {result.error_message} (log {work / f'{label}.log'})",
                      file=sys.stderr)
                return 1
            seconds[label] = (result.completed_on - result.started_on).total_seconds()
            print(f"{label} job through the local Glue executor: {seconds[label]:.1f}s "
                  f"(runner phases: {result.timings})")
        report = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{spec.name}/bench-1/ingest.json")["Body"].read())
        views = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{spec.name}/bench-1/views.json")["Body"].read())
    finally:
        server.stop()

    splits = sorted(v["split_value"] for v in views["views"])
    duck_load, duck_pivots = duckdb_reference(src, spec, splits)
    rows_per_s = report["rows_loaded"] / seconds["ingest"]
    duck_rows_per_s = args.rows / duck_load
    print()
    print(f"{'':34}{'local Glue (Spark)':>20}{'DuckDB':>12}{'ratio':>10}")
    print(f"{'ingest rows/s':34}{rows_per_s:>20,.0f}{duck_rows_per_s:>12,.0f}{duck_rows_per_s / rows_per_s:>9.1f}x")
    # Spark: the view job (discover split values and keys, build, check and publish every view);
    # DuckDB: executing the same pivots. Different work, the same question: how long until views exist.
    print(f"{'views s (' + str(len(splits)) + ' views / pivots)':34}{seconds['views']:>20.1f}{duck_pivots:>12.2f}"
          f"{seconds['views'] / duck_pivots:>9.1f}x")
    print(f"rows read {report['rows_read']:,}, loaded {report['rows_loaded']:,}, rejected {report['rows_rejected']:,}; "
          f"{len(splits)} views created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
