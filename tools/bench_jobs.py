"""The ingest and view jobs' lakepipe logic in local Spark (session start excluded) next to DuckDB doing
the same work (tools/duckdb_ingest_reference.py), on the same generated files, on this machine.

Cases per size (--rows, default 1,000,000; repeat the flag for more sizes, e.g. 10,000,000):
- `new table`: the file into a table that does not exist;
- `reload unchanged`: the same file again (nothing to commit);
- `merge 10%+10%`: the same keys with 10% of the values changed plus 10% more rows with new keys.
Every file carries a few lines of every reject reason, blank lines, quoted values and duplicates.
And, Spark only, `multi-line`: the first size's rows with one quoted value in MULTILINE_EVERY spanning two
lines (LF inside the quotes: the ingest reads the file a second time, as RFC 4180 records) vs the same rows
with a space instead of the line break (one read), each into a new table; checked: the same rows but for
that character, none rejected.

Before any ratio is printed, each case is checked: the Spark table and the DuckDB table hold the
same rows (an order-independent md5 fingerprint of every data column + source file + run id, both
engines computing it), the same counts per reject reason and the same rejected (line, reason) pairs.
A difference stops the benchmark (exit 1) without ratios.

Peak driver memory: the driver JVM's peak resident set (VmHWM, reset before each case through
/proc/<pid>/clear_refs), DuckDB's likewise for this Python process. The driver's heap is DRIVER_MEMORY.
Figures go to stdout and to build/bench/jobs.json. Asserts nothing about time.

Usage: .venv/bin/python tools/bench_jobs.py [--rows N ...] [--multiline-only] (`make bench-jobs`; takes the
heavy lock).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DIR = ROOT / "build" / "bench"
INJECT_EVERY = 100_000  # one burst of reject/duplicate/quoted/blank lines per this many rows
CASES = ("new table", "reload unchanged", "merge 10%+10%")
WARM_UP_ROWS = 200_000
MULTILINE_EVERY = 1_000  # one value spanning lines per this many rows in the multi-line case
# The driver's heap (local mode: the executors' too). Measured at 10M rows (lakepipe/README.md "Performance"):
# 2 GB of heap made a 2.5-2.7 GB process (the JVM beyond the heap: ~450 MB metaspace, GC, code cache, threads,
# plus native buffers); 1280 MB keeps the whole process under 2 GB and 10M rows working.
DRIVER_MEMORY = "1280m"


def bench_spec(table: str):
    """The benchmarks' dataset spec (the seed shape: entities-like columns), loaded into glue_catalog.lake.<table>."""
    from lakepipe.spec import parse_spec

    return parse_spec({"name": "bench", "raw_prefix": "in/bench/", "target": "glue", "database": "lake",
                       "table": table})


def make_csv(path: Path, rows: int, splits: int = 20, keys: int = 50, *, variant: str = "base") -> dict[str, int]:
    """Narrow data in the seed shape: `splits` split values x ids x `keys` keys (about `rows` rows).

    variant "merge": the same keys, every 10th row's value changed, plus 10% more rows with new ids.
    Returns the injected lines per kind, for the reader's orientation (the checks compare engines)."""
    ids = max(1, rows // (splits * keys))
    id_range = ids + ids // 10 if variant == "merge" else ids
    injected = {"duplicate_key": 0, "duplicate_row": 0, "wrong_field_count": 0, "empty_key": 0,
                "empty_split_value": 0, "unparseable": 0, "blank": 0}
    n = 0
    # surrogateescape: "\udcff" is written as the lone byte 0xFF (invalid UTF-8)
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        w = f.write
        w("entity1,entity2,entity3,entity4,key,value\n")
        for s in range(splits):
            split = f"Entity {s:02d}"
            for i in range(id_range):
                ids_part = f"e2-{i % 97},e3-{i},e4-{i % 7}"
                for k in range(keys):
                    value = f"{(s * 31 + i * 17 + k) % 100003}.{k}"
                    if variant == "merge" and (i * keys + k) % 10 == 0:
                        value += "9"
                    n += 1
                    if n % INJECT_EVERY == 1:
                        w(f"{split},{ids_part},metric_{k:02d},stale\n")  # superseded below: duplicate_key
                        w(f"{split},{ids_part},metric_{k:02d},{value}\n")  # same value below: duplicate_row
                        w(f"{split},{ids_part},metric_{k:02d}\n")  # wrong_field_count
                        w(f"{split},{ids_part},,{value}\n")  # empty_key
                        w(f" ,{ids_part},metric_{k:02d},{value}\n")  # empty_split_value
                        # invalid UTF-8: unparseable. (An unbalanced quote is no longer one line's fault: under
                        # RFC 4180 it opens a value that spans the following lines.)
                        w(f"{split},{ids_part},metric_{k:02d},\udcff{value}\n")
                        w("\n")  # blank
                        for kind in injected:
                            injected[kind] += 1
                    if n % INJECT_EVERY == 2:
                        w(f'"{split}",{ids_part},metric_{k:02d},"{value},""q"""\n')  # quoted, valid
                    else:
                        w(f"{split},{ids_part},metric_{k:02d},{value}\n")
    return injected


def make_multiline_csv(path: Path, rows: int, *, line_break: str, splits: int = 20, keys: int = 50) -> int:
    """`rows` rows in the seed shape; every MULTILINE_EVERY-th value is quoted and holds `line_break` (LF: it
    spans two lines; a space: it does not). Returns how many values hold it."""
    ids = max(1, rows // (splits * keys))
    n = quoted = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = f.write
        w("entity1,entity2,entity3,entity4,key,value\n")
        for s in range(splits):
            for i in range(ids):
                for k in range(keys):
                    n += 1
                    if n % MULTILINE_EVERY == 0:
                        quoted += 1
                        value = f'"note {n}, first line{line_break}second line"'
                    else:
                        value = f"{(s * 31 + i * 17 + k) % 100003}.{k}"
                    w(f"Entity {s:02d},e2-{i % 97},e3-{i},e4-{i % 7},metric_{k:02d},{value}\n")
    return quoted


def bench_multiline(spark, work: Path, rows: int) -> dict[str, Any]:
    """Ingest of the same rows with values spanning lines (the second read) and without, into new tables."""
    from pyspark.sql import functions as F

    from lakepipe.ingest import run_ingest

    figures: dict[str, Any] = {"rows": rows, "values_spanning_lines": 0}
    fingerprints = {}
    # Warm-up, not measured: both read paths once, so the first measured case does not pay the JVM's warm-up.
    warm = work / "warm-up.csv"
    make_multiline_csv(warm, 100_000, line_break="\n")
    spec = bench_spec("bench_multiline_warm_up")
    run_ingest(spark, spec, source_uri=f"file://{warm}", source_version="v1", run_id="warm-up",
               rejects_location=f"file://{work}/rejects/", glue_catalog="glue_catalog")
    for label, line_break in (("single-line", " "), ("multi-line", "\n")):
        src = work / f"{label}_{rows}.csv"
        quoted = make_multiline_csv(src, rows, line_break=line_break)
        spec = bench_spec(f"bench_{label.replace('-', '_')}_{rows}")
        reset_peak(spark_jvm_pid(spark))
        t = time.perf_counter()
        res = run_ingest(spark, spec, source_uri=f"file://{src}", source_version="v1", run_id=label,
                         rejects_location=f"file://{work}/rejects/", glue_catalog="glue_catalog")
        seconds = time.perf_counter() - t
        table = spark.table(f"glue_catalog.lake.{spec.table}")
        spanning, expected = table.where(F.col("value").contains("\n")).count(), quoted if line_break == "\n" else 0
        same = table.select(*spec.natural_key, F.regexp_replace("value", "\n", " ").alias("value"))
        fingerprints[label] = same.select(F.sum(F.crc32(F.concat_ws("\u001f", *same.columns)))).first()[0]
        if res.rows_rejected or res.rows_loaded != rows or spanning != expected:
            raise SystemExit(f"{label}: {res.rows_loaded} rows loaded of {rows}, {res.rows_rejected} rejected, "
                             f"{spanning} values with a line break (expected {expected})")
        figures[label] = {"spark_body_s": round(seconds, 2), "phases_s": res.seconds,
                          "peak_driver_rss_mb": peak_mb(spark_jvm_pid(spark)), "file_mb": round(src.stat().st_size / 1e6)}
        figures["values_spanning_lines"] = max(figures["values_spanning_lines"], spanning)
        print(f"{label} {rows:,}: spark {seconds:.1f}s {res.seconds}", flush=True)
    if fingerprints["single-line"] != fingerprints["multi-line"]:
        raise SystemExit("the multi-line table's rows differ from the single-line table's (line breaks aside)")
    figures["ratio"] = round(figures["multi-line"]["spark_body_s"] / figures["single-line"]["spark_body_s"], 2)
    print(f"multi-line / single-line ingest, {rows:,} rows ({figures['values_spanning_lines']} values spanning "
          f"lines): {figures['ratio']:.2f}x", flush=True)
    return figures


def spark_jvm_pid(spark) -> int:
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())


# ---------------------------------------------------------------- memory

def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> None:
    """Reset the process's peak resident set (Linux: 5 -> clear_refs resets VmHWM)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pid: int) -> float:
    return round(_hwm_kb(pid) / 1024, 1)


# ---------------------------------------------------------------- checks

def fingerprint_columns(spec) -> list[str]:
    return [*spec.data_columns, "lakepipe_source_file", "lakepipe_run_id"]


def spark_fingerprint(spark, table: str, spec) -> tuple[int, int]:
    """(rows, sum of the first 60 bits of md5(row)) -- DuckDB computes the same in duckdb_fingerprint."""
    from pyspark.sql import functions as F

    row = F.concat_ws("\u001f", *[F.coalesce(F.col(c), F.lit("\u0000")) for c in fingerprint_columns(spec)])
    h = F.conv(F.substring(F.md5(row), 1, 15), 16, 10).cast("decimal(38,0)")
    r = spark.table(table).agg(F.count(F.lit(1)), F.sum(h)).first()
    return int(r[0]), int(r[1] or 0)


def duckdb_fingerprint(con, scan: str, spec) -> tuple[int, int]:
    parts = ", ".join(f"coalesce(\"{c}\", chr(0))" for c in fingerprint_columns(spec))
    r = con.execute(f"SELECT count(*), sum(('0x' || substr(md5(concat_ws(chr(31), {parts})), 1, 15))::BIGINT"
                    f"::HUGEINT) FROM {scan}").fetchone()
    return int(r[0]), int(r[1] or 0)


def reject_differences(con, spark_dir: Path, duck_dir: Path) -> list[tuple]:
    """(line, reason) pairs rejected by one engine and not the other (at most 10)."""
    def scan(d: Path) -> str:
        files = sorted(str(p) for p in d.glob("*.json"))
        if not files:
            return "(SELECT NULL::BIGINT AS line, NULL::VARCHAR AS reason WHERE false)"
        return f"read_json([{', '.join(repr(f) for f in files)}], columns={{line: 'BIGINT', reason: 'VARCHAR'}})"
    a, b = scan(spark_dir), scan(duck_dir)
    return con.execute(f"(SELECT 'spark only', line, reason FROM {a} EXCEPT ALL SELECT 'spark only', line, reason "
                       f"FROM {b}) UNION ALL (SELECT 'duckdb only', line, reason FROM {b} EXCEPT ALL "
                       f"SELECT 'duckdb only', line, reason FROM {a}) LIMIT 10").fetchall()


# ---------------------------------------------------------------- runs

def duckdb_pivots(scan: str, spec) -> tuple[float, int]:
    """Seconds for DuckDB to find the (split, key) pairs and run every split value's pivot (the view
    job's sqlglot definition rendered for DuckDB), over the reference table's Parquet files."""
    import duckdb
    from sqlglot import exp

    from lakepipe.viewsql import build_view

    def retarget(node):
        return exp.to_table("t") if isinstance(node, exp.Table) else node

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"CREATE VIEW t AS SELECT * FROM {scan}")
    pairs = con.execute(f'SELECT DISTINCT "{spec.split_column}", "{spec.key_column}" FROM t').fetchall()
    keys: dict[str, list[str]] = {}
    for split, key in pairs:
        keys.setdefault(split, []).append(key)
    for split, ks in sorted(keys.items()):
        sql = build_view(spec, split, sorted(ks), view_name="v").query.transform(retarget).sql(dialect="duckdb")
        con.execute(sql).fetchall()
    return time.perf_counter() - t, len(keys)


def run_in_process(sizes: list[int], work: Path, *, splits: int = 20, keys: int = 50,
                   views: bool = True, engine_cases: bool = True) -> dict[str, Any]:
    """Every case of every size in one SparkSession and in DuckDB, then the multi-line case (first size);
    checks; returns the figures. `engine_cases` False: the multi-line case only."""
    import logging

    import duckdb

    from lakepipe.ingest import run_ingest
    from localcloud.spark_runtime import local_spark_session
    from tools.duckdb_ingest_reference import ingest as duck_ingest
    from tools.duckdb_ingest_reference import table_scan

    logging.basicConfig(level=logging.WARNING)
    t = time.perf_counter()
    spark = local_spark_session("lakepipe-bench", {"glue_catalog": str(work / "catalog")},
                                {"spark.driver.memory": DRIVER_MEMORY})
    spark.range(1).collect()
    jvm_pid = spark_jvm_pid(spark)
    session_s = time.perf_counter() - t
    print(f"spark session start: {session_s:.1f}s (not in any figure below)", flush=True)
    results: list[dict[str, Any]] = []
    out: dict[str, Any] = {"spark_session_start_s": round(session_s, 2), "spark_driver_memory": DRIVER_MEMORY,
                           "cases": results}
    con = duckdb.connect()
    try:
        if engine_cases:
            # Warm-up, not measured: the three cases once on a smaller file in both engines, so the first
            # measured case does not pay the JVM's JIT warm-up that the others do not (a cold first load made
            # the re-load look faster against it than it is).
            spec = bench_spec("bench_warm_up")
            base, merge = work / "warm_up_base.csv", work / "warm_up_merge.csv"
            make_csv(base, WARM_UP_ROWS, splits, keys)
            make_csv(merge, WARM_UP_ROWS, splits, keys, variant="merge")
            t = time.perf_counter()
            for case, src in zip(CASES, (base, base, merge), strict=True):
                run_id = f"warm-up-{case.split()[0]}"
                run_ingest(spark, spec, source_uri=f"file://{src}", source_version="v1", run_id=run_id,
                           rejects_location=f"file://{work / 'rejects' / 'warm-up'}/", glue_catalog="glue_catalog")
                duck_ingest(spec, src, table_dir=work / "duck_warm_up", source_uri=f"file://{src}",
                            rejects_dir=work / "rejects" / "warm-up-duckdb" / run_id, run_id=run_id)
            print(f"warm-up: the three cases on {WARM_UP_ROWS:,} rows in both engines, "
                  f"{time.perf_counter() - t:.1f}s (not in any figure below)", flush=True)
            out["warm_up_rows"] = WARM_UP_ROWS
        for rows in sizes if engine_cases else []:
            spec = bench_spec(f"bench_{rows}")
            table = f"glue_catalog.lake.bench_{rows}"
            base, merge = work / f"base_{rows}.csv", work / f"merge_{rows}.csv"
            t = time.perf_counter()
            injected = make_csv(base, rows, splits, keys)
            make_csv(merge, rows, splits, keys, variant="merge")
            print(f"generated {rows:,} rows ({base.stat().st_size / 1e6:.0f} MB) + the merge file "
                  f"({merge.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s; {injected['blank']} bursts of "
                  "reject, duplicate, blank and quoted lines", flush=True)
            for case, src in zip(CASES, (base, base, merge), strict=True):
                run_id = f"{case.split()[0]}-{rows}"
                spark_rejects, duck_rejects = work / "rejects" / "spark", work / "rejects" / "duckdb"
                load = os.getloadavg()[0]
                reset_peak(jvm_pid)
                t = time.perf_counter()
                res = run_ingest(spark, spec, source_uri=f"file://{src}", source_version="v1", run_id=run_id,
                                 rejects_location=f"file://{spark_rejects}/", glue_catalog="glue_catalog")
                spark_s = time.perf_counter() - t
                spark_mb = peak_mb(jvm_pid)
                reset_peak(os.getpid())
                t = time.perf_counter()
                ref = duck_ingest(spec, src, table_dir=work / f"duck_{rows}", source_uri=f"file://{src}",
                                  rejects_dir=duck_rejects / spec.name / run_id, run_id=run_id)
                duck_s = time.perf_counter() - t
                duck_mb = peak_mb(os.getpid())
                scan = table_scan(work / f"duck_{rows}", spec.split_column)
                problems = []
                if res.rejects_by_reason != ref["rejects_by_reason"]:
                    problems.append(f"rejects by reason: spark {res.rejects_by_reason} != duckdb "
                                    f"{ref['rejects_by_reason']}")
                if (res.rows_read, res.rows_loaded, res.blank_lines) != (
                        ref["rows_read"], ref["rows_loaded"], ref["blank_lines"]):
                    problems.append(f"counts: spark {(res.rows_read, res.rows_loaded, res.blank_lines)} != duckdb "
                                    f"{(ref['rows_read'], ref['rows_loaded'], ref['blank_lines'])}")
                diff = reject_differences(con, spark_rejects / spec.name / run_id, duck_rejects / spec.name / run_id)
                if diff:
                    problems.append(f"rejected lines differ: {diff}")
                fp_spark, fp_duck = spark_fingerprint(spark, table, spec), duckdb_fingerprint(con, scan, spec)
                if fp_spark != fp_duck:
                    problems.append(f"table rows differ: spark (rows, md5 sum) {fp_spark} != duckdb {fp_duck}")
                entry = {
                    "case": case, "rows": rows, "rows_read": res.rows_read, "rows_loaded": res.rows_loaded,
                    "rejects_by_reason": res.rejects_by_reason, "table_rows": fp_spark[0],
                    "spark_body_s": round(spark_s, 2), "spark_phases_s": res.seconds,
                    "spark_peak_driver_rss_mb": spark_mb, "duckdb_s": round(duck_s, 2),
                    "duckdb_phases_s": ref["seconds"], "duckdb_peak_rss_mb": duck_mb,
                    "ratio": round(spark_s / duck_s, 2), "loadavg_1m_before": round(load, 2),
                    "same_result": not problems,
                }
                results.append(entry)
                print(f"{case} {rows:,}: spark {spark_s:.2f}s {res.seconds} peak {spark_mb:.0f} MB | duckdb "
                      f"{duck_s:.2f}s {ref['seconds']} | table {fp_spark[0]:,} rows, rejects {res.rejects_by_reason}"
                      f" | load {load:.2f}", flush=True)
                if problems:
                    out["problems"] = problems
                    print("RESULTS DIFFER, no ratios:\n  " + "\n  ".join(problems), file=sys.stderr)
                    return out
                if case == "new table" and views and rows == sizes[0]:
                    out["views"] = bench_views(spark, spec, scan)
        out["multiline"] = bench_multiline(spark, work, sizes[0])
    finally:
        spark.stop()
    return out


def bench_views(spark, spec, duck_scan: str) -> dict[str, Any]:
    """The view job's logic (moto Glue) twice, querying every view in Spark, and DuckDB's pivots."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from lakepipe.views import CatalogTarget, run_views
    from localcloud.net import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    glue = boto3.client("glue", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    glue.create_database(DatabaseInput={"Name": "lake"})
    target = CatalogTarget("aws", "us-east-1", "123456789012")
    figures: dict[str, Any] = {}
    try:
        for label in ("view job, first run", "view job, unchanged"):
            t = time.perf_counter()
            rep = run_views(spark, spec, glue=glue, target=target,
                            definer_role_arn="arn:aws:iam::123456789012:role/definer", glue_catalog="glue_catalog")
            figures[label] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        spark.catalog.setCurrentCatalog("glue_catalog")
        for v in rep["views"]:
            definition = glue.get_table(DatabaseName="lake", Name=v["view"].split(".")[1])["Table"]["ViewDefinition"]
            spark.sql(next(r["ViewOriginalText"] for r in definition["Representations"]
                           if r["Dialect"] == "SPARK")).collect()
        figures["query every view (Spark)"] = round(time.perf_counter() - t, 2)
        spark.catalog.setCurrentCatalog("spark_catalog")
    finally:
        server.stop()
    duck_s, n = duckdb_pivots(duck_scan, spec)
    figures["duckdb pivots"] = round(duck_s, 2)
    figures["views"] = n
    print(f"views ({n}): {figures}", flush=True)
    return figures


# ---------------------------------------------------------------- report

def print_table(out: dict[str, Any], e2e: dict[str, float] | None = None) -> None:
    e2e = e2e or {}
    head = (f"{'case':18}{'rows':>12}{'Spark body s':>14}{'rows/s':>11}{'DuckDB s':>10}{'rows/s':>11}"
            f"{'ratio':>7}{'end-to-end s':>14}{'peak driver MB':>16}{'load':>6}")
    print("\n" + head + "\n" + "-" * len(head))
    for c in out["cases"]:
        key = f"{c['case']} {c['rows']}"
        e = f"{e2e[key]:.1f}" if key in e2e else "-"
        print(f"{c['case']:18}{c['rows']:>12,}{c['spark_body_s']:>14.2f}{c['rows_read'] / c['spark_body_s']:>11,.0f}"
              f"{c['duckdb_s']:>10.2f}{c['rows_read'] / c['duckdb_s']:>11,.0f}{c['ratio']:>6.1f}x{e:>14}"
              f"{c['spark_peak_driver_rss_mb']:>16,.0f}{c['loadavg_1m_before']:>6.2f}")
    by = {(c["case"], c["rows"]): c["spark_body_s"] for c in out["cases"]}
    for rows in sorted({c["rows"] for c in out["cases"]}):
        new = by.get(("new table", rows))
        if new and ("reload unchanged", rows) in by and ("merge 10%+10%", rows) in by:
            print(f"{rows:,} rows: reload / first load {by[('reload unchanged', rows)] / new:.3f} (target <= 0.5); "
                  f"merge / first load {by[('merge 10%+10%', rows)] / new:.2f} (target <= 1.5)")
    sizes = sorted({c["rows"] for c in out["cases"]})
    if len(sizes) > 1 and ("new table", sizes[0]) in by and ("new table", sizes[-1]) in by:
        print(f"new table {sizes[-1]:,} / {sizes[0]:,} rows: {by[('new table', sizes[-1])] / by[('new table', sizes[0])]:.1f}x"
              f" (target <= {1.1 * sizes[-1] / sizes[0]:.0f}x)")
    if "multiline" in out:
        m = out["multiline"]
        print(f"multi-line ({m['values_spanning_lines']:,} of {m['rows']:,} values span lines): "
              f"{m['multi-line']['spark_body_s']:.1f}s vs {m['single-line']['spark_body_s']:.1f}s without, "
              f"{m['ratio']:.2f}x")
    if "views" in out:
        v = out["views"]
        print(f"view job ({v['views']} views): first run {v['view job, first run']:.2f}s, unchanged "
              f"{v['view job, unchanged']:.2f}s; querying every view in Spark {v['query every view (Spark)']:.2f}s;"
              f" DuckDB pairs + pivots {v['duckdb pivots']:.2f}s; ratio (first run / DuckDB) "
              f"{v['view job, first run'] / v['duckdb pivots']:.1f}x (target <= 2x)")


def write_json(name: str, data: dict[str, Any]) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / name
    data = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"figures written to {path.relative_to(ROOT)}")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, action="append", help="rows per file (repeatable; default 1,000,000)")
    ap.add_argument("--no-views", action="store_true", help="skip the view job")
    ap.add_argument("--multiline-only", action="store_true", help="only the multi-line case (Spark, first size)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lakepipe-bench-"))
    try:
        out = run_in_process(args.rows or [1_000_000], work, views=not args.no_views,
                             engine_cases=not args.multiline_only)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json("jobs-multiline.json" if args.multiline_only else "jobs.json", out)
    if "problems" in out:
        return 1
    print_table(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
