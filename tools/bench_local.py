"""`make bench`: the ingest contract in Spark (lakepipe) and in DuckDB (tools/duckdb_ingest_reference.py) on
the same generated files, then the same files end to end through the local Glue executor.

1. In-process (tools/bench_jobs.py): for each size (--rows, repeatable; default 1,000,000) a new table,
   a re-load of the unchanged file and a MERGE with 10% of values changed + 10% new keys, in one
   SparkSession (its start excluded) and in DuckDB; each case is checked for identical table rows,
   reject counts per reason and rejected (line, reason) pairs before any ratio is printed. Then the
   view job's logic next to DuckDB computing the same pivots.
2. End to end (the smallest size): the REAL job scripts through localcloud's Glue runner against a moto
   server, exactly as the local endpoint's StartJobRun does (JVM start, S3 mirror, staging copy, catalog
   sync included): the same three ingest cases and the view job. Peak driver memory there is sampled
   (the largest resident set among this process's descendants, every 0.1 s).

Prints one table and writes build/bench/bench.json. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localcloud.net import free_port
from tools.bench_jobs import CASES, print_table, run_in_process, write_json
from tools.glue_job_args import default_arguments

REGION = "us-east-1"
RAW, ARTIFACTS, WAREHOUSE = "bench-raw", "bench-artifacts", "bench-warehouse"


class DescendantPeakRss:
    """Samples the largest resident set among this process's descendants (the job's driver JVM)."""

    def __init__(self, interval_s: float = 0.1):
        self.interval_s, self.peak_kb = interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _descendants(root: int) -> list[int]:
        children: dict[int, list[int]] = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(d.name))
        out, todo = [], [root]
        while todo:
            for c in children.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval_s):
            for pid in self._descendants(me):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_end_to_end(files: dict[str, Path], rows: int, work: Path) -> dict[str, dict]:
    """The three ingest cases and the view job through the local Glue runner; seconds per run."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from lakepipe.spec import load_spec_file
    from localcloud.glue.runner import run_glue_script

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    glue_zip = ROOT / "build" / "glue" / "lakepipe.zip"
    spec = load_spec_file(ROOT / "datasets" / "entities.json")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # moto's state is per Python process: start from an empty account, whatever ran before in-process
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).close()
    kw = {"region_name": REGION, "endpoint_url": url, "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    s3, glue = boto3.client("s3", **kw), boto3.client("glue", **kw)
    figures: dict[str, dict] = {}
    try:
        for b in (RAW, ARTIFACTS, WAREHOUSE):
            s3.create_bucket(Bucket=b)
        for script in ("ingest_job.py", "view_job.py"):
            s3.upload_file(str(ROOT / "glue_jobs" / script), ARTIFACTS, f"glue/{script}")
        s3.upload_file(str(glue_zip), ARTIFACTS, "glue/lakepipe.zip")
        for db in sorted({spec.database, spec.views_database}):
            glue.create_database(DatabaseInput={"Name": db})
        defaults = default_arguments(raw_bucket=RAW, artifacts_bucket=ARTIFACTS, warehouse_bucket=WAREHOUSE,
                                     definer_role_arn="arn:aws:iam::123456789012:role/bench-definer")
        spec_json = json.dumps(spec.to_dict())
        runs = [(case, "ingest_job.py", files[case]) for case in CASES] + [("views", "view_job.py", None)]
        for n, (label, script, src) in enumerate(runs):
            extra = {}
            if src is not None:
                # a key per run: a second run of one key + version would be a no-op on the ingest ledger
                key = f"{spec.raw_prefix}{n}-{src.name}"
                s3.upload_file(str(src), RAW, key)
                etag = s3.head_object(Bucket=RAW, Key=key)["ETag"].strip('"')
                # an unversioned bucket: the version is the ETag, as the trigger Lambda passes it
                extra = {"--source_uri": f"s3://{RAW}/{key}", "--source_version": etag, "--source_etag": etag}
            args = {**defaults, "--dataset_spec": spec_json, "--run_id": f"bench-{n}", **extra}
            load = os.getloadavg()[0]
            t = time.perf_counter()
            with DescendantPeakRss() as mem:
                result = run_glue_script(f"s3://{ARTIFACTS}/glue/{script}", args, endpoint_url=url,
                                         state_dir=work / "state", timeout_s=3600, log_path=work / f"{n}.log",
                                         job_name=f"bench-{script}", region=REGION)
            wall = time.perf_counter() - t
            if result.state != "SUCCEEDED":
                raise RuntimeError(f"{label} job {result.state}: {result.error_message} (log {work / f'{n}.log'})")
            figures[f"{label} {rows}"] = {"seconds": round(wall, 2), "runner_phases_s": result.timings,
                                          "peak_driver_rss_mb": round(mem.peak_kb / 1024, 1),
                                          "loadavg_1m_before": round(load, 2)}
            print(f"end to end, {label}: {wall:.1f}s (runner phases {result.timings}), peak driver "
                  f"{mem.peak_kb / 1024:.0f} MB, load {load:.2f}", flush=True)
    finally:
        server.stop()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, action="append", help="rows per file (repeatable; default 1,000,000); "
                    "the end-to-end runs use the smallest")
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--keys", type=int, default=50)
    ap.add_argument("--no-end-to-end", action="store_true", help="only the in-process figures")
    args = ap.parse_args()
    if not (ROOT / "build" / "glue" / "lakepipe.zip").is_file():
        print("build/glue/lakepipe.zip missing: run `make package`", file=sys.stderr)
        return 1
    sizes = sorted(args.rows or [1_000_000])
    work = Path(tempfile.mkdtemp(prefix="lakepipe-bench-"))
    try:
        out = run_in_process(sizes, work, splits=args.splits, keys=args.keys)
        if "problems" in out:
            write_json("bench.json", out)
            return 1
        e2e: dict[str, dict] = {}
        if not args.no_end_to_end:
            rows = sizes[0]
            files = dict(zip(CASES, (work / f"base_{rows}.csv",) * 2 + (work / f"merge_{rows}.csv",), strict=True))
            e2e = run_end_to_end(files, rows, work / "e2e")
            out["end_to_end"] = e2e
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json("bench.json", out)
    print_table(out, {k: v["seconds"] for k, v in e2e.items()})
    if e2e:
        views = e2e.get(f"views {sizes[0]}")
        print(f"view job end to end: {views['seconds']:.1f}s" if views else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
