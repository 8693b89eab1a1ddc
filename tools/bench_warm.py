"""`make bench-warm`: what a user waits for on the local lake's first and warm `make run` (issue 10, warm runs).

For LOCALCLOUD_GLUE_PREWARM=off, then on: a fresh endpoint (its own free port and LOCALCLOUD_DIR), and
`make run INPUT=<csv>` RUNS times (default 3) as a user types it. Run 1 starts the endpoint and applies the
stack (`make deploy-local`) before its upload: the first run after endpoint start; the later ones are warm
runs (deploy-local skips the no-op apply). Per run it prints:

- command s: the whole `make run`;
- upload->SUCCEEDED s: from the moment the command prints its `upload` line to the execution's stopDate (what
  the pipeline takes), and to the moment the command reports SUCCEEDED (its DescribeExecution polling added);
- per Glue job: whether a new, a pre-warmed or a warm driver ran it (driver pid, runs on it), and the run log's
  timings (driver_start_s, script_s, total_s; localcloud/glue/runner.py).

Writes build/bench/warm.json. Takes /tmp/lakepipe-heavy.lock itself (mk/local.mk), asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localcloud.net import free_port
from tools.bench_jobs import write_json

DRIVER = re.compile(r"driver pid (\d+): (new|warm), run (\d+) on it")
TIMINGS = re.compile(r"run (jr_\w+): (\w+)(?: - .*)?; timings (\{.*\})$")


def glue_runs(home: Path, seen: set[Path]) -> list[dict]:
    """The Glue runs whose logs appeared since the last call: job, driver, state, timings."""
    out = []
    for log in sorted((home / "state" / "glue" / "logs").glob("*/*.log"), key=lambda p: p.stat().st_mtime):
        if log in seen:
            continue
        seen.add(log)
        text = log.read_text(errors="replace")
        run = {"job": log.parent.name}
        for line in text.splitlines():
            if m := DRIVER.search(line):
                run["driver"] = {"pid": int(m[1]), "kind": m[2], "runs": int(m[3])}
            if m := TIMINGS.search(line):
                run["state"], run["timings"] = m[2], json.loads(m[3])
        out.append(run)
    return out


def make_run(env: dict[str, str], csv: Path) -> dict:
    """`make run INPUT=csv`, its stdout/stderr lines time-stamped as they come."""
    t0 = time.time()
    proc = subprocess.Popen(["make", "--no-print-directory", "run", f"INPUT={csv}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [(time.time(), line.rstrip("\n")) for line in proc.stdout]
    rc = proc.wait()
    end = time.time()
    upload_at = next((t for t, line in lines if line.startswith("upload ")), None)
    reported_at = next((t for t, line in lines if re.search(r"execution \S+: SUCCEEDED", line)), None)
    summary = {}
    for _, line in reversed(lines):
        if line.startswith("{"):
            summary = json.loads(line)
            break
    if rc != 0 or summary.get("status") != "SUCCEEDED":
        tail = "\n".join(line for _, line in lines[-30:])
        raise RuntimeError(f"make run failed (exit {rc}):\n{tail}")
    return {"t0": t0, "command_s": round(end - t0, 2), "upload_at": upload_at, "reported_at": reported_at,
            "before_upload_s": round(upload_at - t0, 2) if upload_at else None, "summary": summary}


def last_execution_stop(home: Path, env: dict[str, str]) -> float:
    import boto3

    arn = json.loads((home / "stack.json").read_text())["state_machine_arn"]
    arn = arn["value"] if isinstance(arn, dict) else arn  # `terraform output -json` form
    sfn = boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{env['LOCALCLOUD_PORT']}",
                       region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    latest = max(executions, key=lambda e: e["startDate"])
    stop: datetime = latest["stopDate"]
    return stop.timestamp()


def bench_mode(prewarm: str, csv: Path, runs: int) -> list[dict]:
    home = Path(tempfile.mkdtemp(prefix=f"bench-warm-{prewarm}-"))
    env = dict(os.environ, LOCALCLOUD_PORT=str(free_port()), LOCALCLOUD_DIR=str(home),
               LOCALCLOUD_GLUE_PREWARM=prewarm)
    seen: set[Path] = set()
    out = []
    try:
        for n in range(1, runs + 1):
            load = os.getloadavg()[0]  # other work on the 2 cores skews the figures: printed with them
            r = make_run(env, csv)
            r["loadavg_1m_before"] = round(load, 2)
            stop = last_execution_stop(home, env)
            r["upload_to_succeeded_s"] = round(stop - r["upload_at"], 2)
            r["upload_to_reported_s"] = round(r["reported_at"] - r["upload_at"], 2) if r["reported_at"] else None
            r["glue"] = glue_runs(home, seen)
            r.update(prewarm=prewarm, run=n)
            for k in ("t0", "upload_at", "reported_at", "summary"):
                r.pop(k)
            out.append(r)
            print(f"  prewarm={prewarm} run {n}: command {r['command_s']} s, upload->SUCCEEDED "
                  f"{r['upload_to_succeeded_s']} s", flush=True)
    finally:
        subprocess.run(["make", "--no-print-directory", "down"], cwd=ROOT, env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return out


def print_table(rows: list[dict]) -> None:
    head = (f"{'prewarm':8}{'run':>4}{'command s':>11}{'before upload s':>17}{'upload->SUCCEEDED s':>21}"
            f"{'(reported)':>11}{'load':>6}   glue jobs: driver, driver_start_s / script_s / total_s")
    print("\n" + head + "\n" + "-" * (len(head) + 20))
    for r in rows:
        jobs = "; ".join(
            f"{g['job'].rsplit('-', 1)[-1]} {g.get('driver', {}).get('kind', '?')}#{g.get('driver', {}).get('runs', '?')}"
            f" {g['timings'].get('driver_start_s', '-')}/{g['timings'].get('script_s', '-')}/{g['timings'].get('total_s')}"
            for g in r["glue"] if "timings" in g)
        print(f"{r['prewarm']:8}{r['run']:>4}{r['command_s']:>11.1f}{r['before_upload_s']:>17.1f}"
              f"{r['upload_to_succeeded_s']:>21.1f}{r['upload_to_reported_s'] or 0:>11.1f}"
              f"{r['loadavg_1m_before']:>6.2f}   {jobs}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", type=Path, default=ROOT / "sample_data" / "entities_sample.csv")
    ap.add_argument("--runs", type=int, default=3, help="make run calls per mode (the first starts the endpoint)")
    ap.add_argument("--modes", default="off,on", help="LOCALCLOUD_GLUE_PREWARM values to measure, in order")
    ns = ap.parse_args()
    rows = []
    for mode in ns.modes.split(","):
        rows += bench_mode(mode, ns.input.resolve(), ns.runs)
    print_table(rows)
    write_json("warm.json", {"input": str(ns.input), "runs": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
