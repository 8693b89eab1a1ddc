"""`make bench-settings`: the Spark and Iceberg settings the jobs run with, each against its alternatives,
on the bench's 1,000,000-row file (tools/bench_jobs.py make_csv) in one local[2] session, alternating.

- spark.sql.shuffle.partitions (adaptive execution on, as in Glue 5.0): 1, 2, 4 and 8 per task slot and
  Spark's default of 200; each a new table then a re-load of the same file (lakepipe.ingest.run_ingest).
- the Parquet codec: the loaded table written again (CTAS, same partitioning) as zstd, snappy and gzip;
  seconds and bytes.
Prints each round and writes build/bench/settings.json. README "Glue settings, each from a measurement".
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SLOTS = 2  # local[2]
PER_SLOT = (1, 2, 4, 8)
CODECS = ("zstd", "snappy", "gzip")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    from lakepipe.ingest import run_ingest
    from localcloud.spark_runtime import local_spark_session
    from tools.bench_jobs import bench_spec, make_csv, write_json

    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="lakepipe-bench-settings-"))
    try:
        spark = local_spark_session("lakepipe-bench-settings", {"glue_catalog": str(work / "catalog")})
        src = work / "base.csv"
        make_csv(src, args.rows)
        spec = bench_spec("settings")
        table = "glue_catalog.lake.settings"
        out = {"rows": args.rows, "adaptive": spark.conf.get("spark.sql.adaptive.enabled"), "shuffle": [], "codec": []}

        def ingest(run_id: str) -> float:
            t = time.perf_counter()
            run_ingest(spark, spec, source_uri=f"file://{src}", source_version="v1", run_id=run_id,
                       rejects_location=f"file://{work}/rejects/", glue_catalog="glue_catalog")
            return round(time.perf_counter() - t, 2)

        ingest("warm-up")  # JIT and caches: not in any figure
        spark.sql(f"DROP TABLE {table} PURGE")
        for rnd in range(args.rounds):
            for partitions in [p * SLOTS for p in PER_SLOT] + [200]:
                spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
                new, reload = ingest(f"new-{partitions}-{rnd}"), ingest(f"re-{partitions}-{rnd}")
                files, largest = spark.sql(f"SELECT count(*), max(file_size_in_bytes) FROM {table}.files").first()
                row = {"round": rnd, "partitions": partitions, "new_s": new, "reload_s": reload, "files": files,
                       "largest_file_bytes": largest}
                print(json.dumps(row), flush=True)
                out["shuffle"].append(row)
                spark.sql(f"DROP TABLE {table} PURGE")
        spark.conf.set("spark.sql.shuffle.partitions", str(2 * SLOTS))
        ingest("codec-source")
        for rnd in range(args.rounds):
            for codec in CODECS:
                name = f"glue_catalog.lake.settings_{codec}"
                spark.sql(f"DROP TABLE IF EXISTS {name} PURGE")
                t = time.perf_counter()
                spark.sql(f"CREATE TABLE {name} USING iceberg PARTITIONED BY ({spec.split_column}) TBLPROPERTIES ("
                          "'format-version'='2', 'write.distribution-mode'='hash', "
                          f"'write.parquet.compression-codec'='{codec}') AS SELECT * FROM {table}")
                write_s = round(time.perf_counter() - t, 2)
                size, files = spark.sql(f"SELECT sum(file_size_in_bytes), count(*) FROM {name}.files").first()
                row = {"round": rnd, "codec": codec, "write_s": write_s, "bytes": size, "files": files}
                print(json.dumps(row), flush=True)
                out["codec"].append(row)
        spark.stop()
        print(f"wrote {write_json('settings.json', out)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
