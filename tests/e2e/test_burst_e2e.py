"""Many files at once (issue 11): a burst of uploads to one dataset, each its own execution, runs with the
real local executors (Glue runs overlap: LOCALCLOUD_GLUE_WORKERS >= 2). More files than the ingest job's
MaxConcurrentRuns: some StartJobRun calls are refused (Glue.ConcurrentRunsExceededException) and the state
machine's retry starts them later. Every execution succeeds, the table holds exactly the rows of all files, the
ledger lists every file version once, and every view has every key. Prints the figures: wall time, the most
Glue runs seen at once, the capacity refusals retried, the commit races the loads lost and redid.
Every file also carries one row of a key all files share, in each split value: the loads that win it rewrite
both partitions (ingest.rewrite_partitions) while others commit, the ones it loses to a newer upload MERGE their
new keys, and the row ends up with the newest upload's value (lakepipe/ordering.py: event time, then URI).

LAKEPIPE_BURST_FILES sets the number of files: 12 in `make test` (test-e2e: the local root's limit of 10 runs
plus two), 200 in `make test-scale`.
Dataset tests/e2e/datasets/entities_burst.json (its own table, so the other e2e tests' rows are untouched).
"""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tools import local_lake

from .conftest import DeployedStack, wait_for

pytestmark = pytest.mark.e2e

DATASET = "entities_burst"
FILES = int(os.environ.get("LAKEPIPE_BURST_FILES", "12"))
KEYS_PER_FILE = 5
SHARED_KEY = "shared"  # in every file: the newest upload's value must win it
SPLITS = ("north", "south")  # every file touches both partitions: concurrent MERGEs really conflict
DEADLINE_S = max(1500, 30 * FILES)  # a bound on the wait, not the expected time


def shared_value(split: str, i: int) -> str:
    return f"{split}-shared-{i}"


def write_files(folder: Path) -> dict[tuple[str, str], str]:
    """FILES csv files; file i holds keys k{i}_{j} and SHARED_KEY in each split value. Returns (split, key) ->
    value for the keys of one file only (SHARED_KEY's value depends on which upload is the newest)."""
    expected: dict[tuple[str, str], str] = {}
    folder.mkdir(parents=True)
    for i in range(FILES):
        with open(folder / f"burst_{i:03d}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["entity1", "entity2", "entity3", "entity4", "key", "value"])
            for split in SPLITS:
                for j in range(KEYS_PER_FILE):
                    value = f"{split}-{i}-{j}"
                    w.writerow([split, "e2", "e3", "e4", f"k{i:03d}_{j}", value])
                    expected[(split, f"k{i:03d}_{j}")] = value
                w.writerow([split, "e2", "e3", "e4", SHARED_KEY, shared_value(split, i)])
    return expected


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    now = best = 0
    for _, delta in events:
        now += delta
        best = max(best, now)
    return best


@pytest.fixture(scope="module")
def burst(deployed_stack: DeployedStack, tmp_path_factory, stack_env):
    folder = tmp_path_factory.mktemp("burst") / "files"
    expected = write_files(folder)
    spec = local_lake.dataset_spec(DATASET, deployed_stack.outputs)
    raw = deployed_stack.outputs["bucket_names"]["raw"]
    sfn = deployed_stack.client("stepfunctions")
    machine = deployed_stack.outputs["state_machine_arn"]
    started = time.monotonic()
    # One `aws s3 cp --recursive`: the CLI uploads the files concurrently, as a user's burst would arrive.
    deployed_stack.aws("s3", "cp", "--recursive", str(folder), f"s3://{raw}/{spec.raw_prefix}", "--only-show-errors")

    def ours() -> list[dict]:
        out = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            out += [e for e in page["executions"] if e["name"].startswith(f"{DATASET}-")]
        return out

    def all_finished():
        execs = ours()
        return execs if len(execs) == FILES and all(e["status"] != "RUNNING" for e in execs) else None

    executions = wait_for(all_finished, DEADLINE_S, f"{FILES} executions of {DATASET} to finish", interval=2.0)
    wall_s = time.monotonic() - started
    return {"executions": executions, "expected": expected, "wall_s": wall_s, "spec": spec}


def failures(sfn, arn: str) -> list[str]:
    """The execution's failed events, oldest first, as 'error: cause' (the first ones may be retried capacity
    errors)."""
    events = [ev for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
              for ev in page["events"]]
    out = []
    for ev in events:
        for k, v in ev.items():
            if k.endswith("FailedEventDetails") and isinstance(v, dict):
                out.append(f"{v.get('error')}: {failure_cause(v.get('cause'))}")
    return out


def failure_cause(cause: str | None) -> str:
    """A failed event's cause, cut to 1,500 characters; a Glue .sync task's cause is the whole JobRun as JSON,
    where the run's ErrorMessage comes after its arguments: that message goes first."""
    try:
        run = json.loads(cause or "")
    except ValueError:
        run = None
    if isinstance(run, dict) and run.get("ErrorMessage"):
        return f"{run['ErrorMessage']} (run {run.get('Id')}, {run.get('JobName')})"[:1500]
    return str(cause)[:1500]


def test_every_execution_of_the_burst_succeeds(burst, deployed_stack: DeployedStack):
    sfn = deployed_stack.client("stepfunctions")
    history = {e["name"]: failures(sfn, e["executionArn"]) for e in burst["executions"]}
    # Every failed event but the retried capacity refusals: the cause comes before the final PipelineFailed.
    failed = {e["name"]: [f for f in history[e["name"]] if not f.startswith("Glue.ConcurrentRunsExceeded")]
              for e in burst["executions"] if e["status"] != "SUCCEEDED"}
    assert failed == {}, json.dumps(failed, indent=1)

    glue = deployed_stack.client("glue")
    limit = glue.get_job(JobName=deployed_stack.outputs["glue_job_names"]["ingest"])["Job"]["ExecutionProperty"][
        "MaxConcurrentRuns"]
    refused = sum(f.startswith("Glue.ConcurrentRunsExceededException") for fs in history.values() for f in fs)
    figures = {"files": FILES, "wall_s": round(burst["wall_s"], 1), "ingest_max_concurrent_runs": limit,
               "capacity_refusals_retried": refused}
    for job, name in deployed_stack.outputs["glue_job_names"].items():
        runs = [r for page in glue.get_paginator("get_job_runs").paginate(JobName=name) for r in page["JobRuns"]
                if r.get("CompletedOn")]
        figures[f"{job}_runs"] = len(runs)
        # Executing, not queued: a run waiting in STARTING for a driver consumes no ExecutionTime.
        figures[f"{job}_most_at_once"] = max_overlap(
            [(r["CompletedOn"] - timedelta(seconds=r["ExecutionTime"]), r["CompletedOn"]) for r in runs])
    logs = deployed_stack.client("logs")

    def log_lines(phrase: str) -> int:
        n = 0
        for group in ("/aws-glue/jobs/output", "/aws-glue/jobs/error"):
            try:
                pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group,
                                                                        filterPattern=f'"{phrase}"')
                n += sum(len(p["events"]) for p in pages)
            except logs.exceptions.ResourceNotFoundException:
                pass
        return n

    figures["commit_races_redone"] = log_lines("lost a commit race")
    # How the loads committed: a rewrite of both partitions (the file won the shared key) or a MERGE.
    figures["loads_rewriting_partitions"] = log_lines("split partition(s) of")
    figures["loads_merging"] = log_lines("changed rows into")
    print(f"\nburst figures: {json.dumps(figures)}")
    # The runs really overlapped: the conflicts this test is about were possible.
    assert figures["ingest_most_at_once"] >= 2, figures
    # The burst went past the job's concurrency limit, and the refused starts were retried to success.
    if FILES > limit:
        assert refused >= 1, figures


def newest_upload(spec) -> int:
    """The number of the file whose upload is the newest by the ordering rule: the greatest S3 event time on
    the ledger, equal times broken by the greater URI."""
    rows = local_lake.athena_query(
        f'SELECT source_event_time, source_bucket, source_key FROM "{spec.database}"."{spec.table}_ledger"')[1:]
    _, _, key = max((r[0], f"s3://{r[1]}/{r[2]}", r[2]) for r in rows)
    return int(key.rsplit("_", 1)[1].removesuffix(".csv"))


def test_the_table_holds_exactly_the_rows_of_all_files(burst):
    spec = burst["spec"]
    rows = local_lake.athena_query(
        f'SELECT entity1, key, value FROM "{spec.database}"."{spec.table}"')[1:]
    got = {(r[0], r[1]): r[2] for r in rows}
    newest = newest_upload(spec)
    expected = burst["expected"] | {(split, SHARED_KEY): shared_value(split, newest) for split in SPLITS}
    assert len(rows) == len(expected) == (FILES * KEYS_PER_FILE + 1) * len(SPLITS)
    assert got == expected, f"the newest upload is burst_{newest:03d}.csv"


def test_the_ledger_lists_every_file_version_once(burst):
    spec = burst["spec"]
    rows = local_lake.athena_query(
        f'SELECT source_key, source_version, status, rows_loaded FROM "{spec.database}"."{spec.table}_ledger"')[1:]
    versions = [(r[0], r[1]) for r in rows]
    assert len(rows) == FILES, f"{len(rows)} ledger entries for {FILES} files"
    assert len(set(versions)) == FILES, "a file version is on the ledger twice"
    assert sorted(k.rsplit("/", 1)[1] for k, _ in versions) == [f"burst_{i:03d}.csv" for i in range(FILES)]
    assert {(r[2], r[3]) for r in rows} == {("loaded", str((KEYS_PER_FILE + 1) * len(SPLITS)))}


def test_every_view_has_every_key(burst):
    spec = burst["spec"]

    for split in SPLITS:
        rows = local_lake.athena_query(f'SELECT * FROM "{spec.views_database}"."{spec.view_prefix}{split}"')
        header, data = rows[0], rows[1:]
        keys = sorted(k for (s, k) in burst["expected"] if s == split)
        assert sorted(c for c in header if c.startswith("k")) == keys, split
        assert len(data) == 1  # one id combination (e2, e3, e4) per split value
        cells = dict(zip(header, data[0], strict=True))
        assert all(cells[k] == burst["expected"][(split, k)] for k in keys)
        assert cells[SHARED_KEY] == shared_value(split, newest_upload(spec))
