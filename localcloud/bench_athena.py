"""Measure the local Athena: latency of queries over a 1,000,000-row Iceberg table (`make bench-athena`).

Starts its own endpoint on a free port in a temporary directory, writes the table (DuckDB + PyIceberg),
registers it in the endpoint's Glue Data Catalog, runs each query a few times and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from localcloud.net import free_port

QUERIES = {
    "count": "SELECT count(*) FROM bench.events",
    "group by": "SELECT category, count(*) AS n, avg(amount) AS avg_amount FROM bench.events GROUP BY category "
                "ORDER BY category",
    "pivot 20": "SELECT entity, " + ", ".join(
        f"max(CASE WHEN attr = 'a{i}' THEN amount END) AS a{i}" for i in range(20)) +
                " FROM bench.events GROUP BY entity ORDER BY entity LIMIT 1000",
    "filter+limit": "SELECT * FROM bench.events WHERE id % 9973 = 0 ORDER BY id LIMIT 100",
}

TABLE_SQL = """
SELECT i::BIGINT AS id, 'e' || (i % 50000) AS entity, 'a' || (i % 20) AS attr, 'c' || (i % 7) AS category,
       (i % 1000) / 10.0 AS amount, DATE '2024-01-01' + (i % 365)::INTEGER AS day
FROM range({rows}) r(i)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import boto3

    from localcloud.iceberg_fixture import register_in_glue, write_table

    with tempfile.TemporaryDirectory(prefix="localcloud-bench-") as tmp:
        port = free_port()
        env = dict(os.environ, LOCALCLOUD_PORT=str(port), LOCALCLOUD_DIR=f"{tmp}/lc")
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "localcloud", "up"], env=env, check=True, stdout=subprocess.DEVNULL)
        up_s = time.monotonic() - t0
        try:
            url = f"http://127.0.0.1:{port}"
            kw = {"region_name": "us-east-1", "endpoint_url": url, "aws_access_key_id": "test",
                  "aws_secret_access_key": "test"}
            glue, athena, s3 = (boto3.client(s, **kw) for s in ("glue", "athena", "s3"))
            s3.create_bucket(Bucket="bench-results")
            t0 = time.monotonic()
            location = write_table(Path(tmp) / "warehouse", "bench", "events", TABLE_SQL.format(rows=args.rows))
            write_s = time.monotonic() - t0
            register_in_glue(glue, "bench", "events", location)
            print(f"endpoint up (python -m localcloud up): {up_s:.2f} s")
            print(f"Iceberg table of {args.rows:,} rows written (DuckDB + PyIceberg): {write_s:.2f} s")
            print(f"{'query':<14} {'first s':>8} {'median s':>9} {'min s':>7} {'engine ms':>10} {'page rows':>10}")
            for name, sql in QUERIES.items():
                times, engine, nrows = [], [], 0
                for _ in range(args.repeat):
                    t0 = time.monotonic()
                    qid = athena.start_query_execution(
                        QueryString=sql, ResultConfiguration={"OutputLocation": "s3://bench-results/"})[
                        "QueryExecutionId"]
                    while True:
                        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
                        if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
                            break
                        time.sleep(0.01)
                    if q["Status"]["State"] != "SUCCEEDED":
                        print(f"{name}: {q['Status']}", file=sys.stderr)
                        return 1
                    res = athena.get_query_results(QueryExecutionId=qid, MaxResults=1000)
                    times.append(time.monotonic() - t0)
                    engine.append(q["Statistics"]["EngineExecutionTimeInMillis"])
                    nrows = len(res["ResultSet"]["Rows"]) - 1
                print(f"{name:<14} {times[0]:>8.3f} {statistics.median(times):>9.3f} {min(times):>7.3f} "
                      f"{statistics.median(engine):>10.0f} {nrows:>10}")
            print("(latency = StartQueryExecution -> SUCCEEDED seen by polling every 10 ms -> first results page)")
        finally:
            subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
