"""Monthly cost estimate of a deployed stack for a usage profile (`make cost [PROFILE=cost/<file>.json]`).

Inputs, each from one place:
- the usage profile (cost/usage-profile.json and others; cost/README.md explains every field);
- unit prices with their Region, source page and date read (cost/prices.json);
- the deployed settings of the profile's environment from its committed offline plan
  (terraform/plan-snapshots/<env>.json, which `make tf-check` keeps equal to the real plan): Glue worker
  type and count, max concurrent runs, Lambda memory, log retention, lifecycle days, alarms, dashboards,
  KMS keys, tracing; the Region from terraform/environments/<env>/main.tf;
- state transitions per execution and the capacity-retry policy from state_machines/pipeline.asl.json;
- job durations scaled from the benchmark's measured throughput (cost/throughput.json: figures of one
  `make bench-10m` run, with their source).

Prints a Markdown table (one line per billed item, quantity, unit price, USD per month), how the Glue
line was computed, the prices that could not be confirmed, and what is left out.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
COST_DIR = REPO / "cost"
ASL_PATH = REPO / "state_machines" / "pipeline.asl.json"
MAINTENANCE_ASL_PATH = REPO / "state_machines" / "maintenance.asl.json"
DAYS_PER_MONTH = 30
GB = 1024**3
MIB = 1024**2
TIB = 1024**4
ATHENA_MINIMUM_BYTES = 10 * MIB
S3TABLES_TARGET_FILE_BYTES = 512 * MIB  # S3 Tables' default compaction target file size
CAPACITY_ERROR = "Glue.ConcurrentRunsExceededException"
# Resource types billed per use; the model prices the pipeline's own and names any other as not priced.
METERED_TYPES = (
    "aws_glue_job",
    "aws_lambda_function",
    "aws_sfn_state_machine",
    "aws_scheduler_schedule",
    "aws_cloudwatch_event_rule",
    "aws_glue_catalog_table_optimizer",
    "aws_glue_crawler",
    "aws_glue_trigger",
)
LOG_GROUP_KINDS = (("/aws-glue/", "glue"), ("/aws/lambda/", "lambda"), ("/aws/vendedlogs/states/", "states"))
README_MARKERS = {
    name: (f"<!-- cost:{name}:start -->", f"<!-- cost:{name}:end -->")
    for name in ("usage-profile", "regulatory-period-end")
}


# ---------------------------------------------------------------- the state machine
def load_asl(path: Path = ASL_PATH) -> dict[str, Any]:
    """The ASL template as JSON; a placeholder outside a string (a number such as a Map's MaxConcurrency)
    becomes 1, which no transition count depends on."""
    return json.loads(re.sub(r'(?<!")\$\{\w+\}', "1", path.read_text(encoding="utf-8")))


def _walk(states: dict[str, Any], start: str, fail_at: str | None) -> list[str]:
    """States entered from `start` following Next; at `fail_at` the first Catch is taken instead."""
    path, name = [], start
    while name is not None:
        if name in path:
            raise ValueError(f"the state machine loops at {name}; transitions per run are unbounded")
        state = states[name]
        path.append(name)
        if name == fail_at:
            if not state.get("Catch"):
                raise ValueError(f"state {name} has no Catch")
            name = state["Catch"][0]["Next"]
        elif state.get("End") or state["Type"] in ("Succeed", "Fail"):
            name = None
        else:
            name = state["Next"]
    return path


def success_transitions(states: dict[str, Any], start: str, items: int) -> int:
    """State transitions of a successful run: every state entered once, a Choice taking its Default, a Map
    state's processor entered once per item."""
    count, name = 0, start
    while name is not None:
        state = states[name]
        count += 1
        if state["Type"] == "Map":
            processor = state["ItemProcessor"]
            count += items * success_transitions(processor["States"], processor["StartAt"], items)
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            name = None
        else:
            name = state["Default"] if state["Type"] == "Choice" else state["Next"]
    return count


def first_task_with_retry(asl: dict[str, Any], error: str = CAPACITY_ERROR) -> tuple[str, dict[str, Any]]:
    """The first Task on the success path whose Retry handles `error`, and that retrier."""
    for name in _walk(asl["States"], asl["StartAt"], None):
        for retrier in asl["States"][name].get("Retry", []):
            if error in retrier["ErrorEquals"]:
                return name, retrier
    raise ValueError(f"no Task retries {error}")


def transitions_per_run(asl: dict[str, Any]) -> dict[str, int]:
    """State transitions of a successful execution and of one whose ingest task fails (each state entered
    is one transition; each retry of a task adds one, counted separately)."""
    states, start = asl["States"], asl["StartAt"]
    ingest, _ = first_task_with_retry(asl)
    return {"success": len(_walk(states, start, None)), "ingest_failed": len(_walk(states, start, ingest))}


def expected_retries(wait_s: float, retrier: dict[str, Any]) -> float:
    """Expected retries of a task that keeps failing for `wait_s` seconds under an ASL retrier.

    Attempt k waits min(IntervalSeconds * BackoffRate^(k-1), MaxDelaySeconds); FULL jitter draws the wait
    uniformly below that, so it averages half. Returns the number of retries whose expected waits add up
    to `wait_s` (fractional in the last step), which may exceed MaxAttempts: the caller reports that."""
    interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", math.inf)
    jitter = 0.5 if retrier.get("JitterStrategy") == "FULL" else 1.0
    retries, waited, k = 0.0, 0.0, 0
    while waited < wait_s:
        delay = min(interval * rate**k, cap) * jitter
        step = min(1.0, (wait_s - waited) / delay)
        retries += step
        waited += delay * step
        k += 1
    return retries


# ---------------------------------------------------------------- the deployed settings
@dataclass(frozen=True)
class GlueJob:
    worker_type: str
    workers: int


@dataclass(frozen=True)
class Maintenance:
    job: GlueJob
    runs_per_month: float  # executions of the maintenance state machine (each maintains every dataset)


@dataclass(frozen=True)
class Deployment:
    environment: str
    region: str
    ingest: GlueJob
    views: GlueJob
    max_concurrent_runs: int
    trigger_memory_mb: int
    recorder_memory_mb: int
    log_retention_days: dict[str, int]  # "glue", "lambda", "states"
    raw_retention_days: int
    warehouse_noncurrent_days: int
    athena_results_days: int
    s3tables_history_days: int | None  # unreferenced + noncurrent days of the table bucket; None: no bucket
    alarm_metrics: int
    dashboards: int
    kms_keys: int
    tracing: bool
    source: str
    unpriced: tuple[str, ...] = ()  # resources billed per use that the model does not price
    maintenance: Maintenance | None = None  # the scheduled table maintenance, when the plan has it


def _resources(plan: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {
        addr: r["values"]
        for addr, r in plan.items()
        if re.search(rf"(^|\.){rtype}\.[^.]+$", addr) and "delete" not in r.get("actions", [])
    }


def _one(plan: dict[str, Any], rtype: str, suffix: str) -> dict[str, Any]:
    found = [v for a, v in _resources(plan, rtype).items() if a.endswith(suffix)]
    if len(found) != 1:
        raise ValueError(f"expected one {rtype} ending {suffix!r} in the plan, found {len(found)}")
    return found[0]


def _lifecycle_days(rules: list[dict[str, Any]], rule_prefix: str, field: str) -> int:
    days = [
        entry[field]
        for rule in rules
        if rule["id"].startswith(rule_prefix) and rule["status"] == "Enabled"
        for entry in rule["noncurrent_version_expiration" if field == "noncurrent_days" else "expiration"]
        if entry.get(field)
    ]
    if not days:
        raise ValueError(f"no enabled lifecycle rule {rule_prefix}* with {field}")
    return max(days)


def runs_per_month(expression: str) -> float:
    """Runs a month of an EventBridge Scheduler expression: rate(N unit), or cron(...) whose day-of-month,
    month and day-of-week are every day (* or ?) and whose minutes and hours are numbers or lists."""
    rate = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    if rate:
        per_day = {"minute": 1440, "hour": 24, "day": 1}[rate.group(2)] / int(rate.group(1))
        return per_day * DAYS_PER_MONTH
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    if (
        not cron
        or any(f not in ("*", "?") for f in cron.groups()[2:5])
        or not all(re.fullmatch(r"\d+(,\d+)*", f) for f in cron.groups()[:2])
    ):
        raise ValueError(f"schedule {expression!r}: the cost model counts rate() and daily cron() only")
    minutes, hours = (len(f.split(",")) for f in cron.groups()[:2])
    return minutes * hours * DAYS_PER_MONTH


def region_of(environment: str) -> str:
    main_tf = REPO / "terraform" / "environments" / environment / "main.tf"
    found = re.findall(r'^\s*region\s*=\s*"([a-z0-9-]+)"', main_tf.read_text(encoding="utf-8"), re.MULTILINE)
    if len(set(found)) != 1:
        raise ValueError(f"{main_tf}: expected one literal region, found {found}")
    return found[0]


def deployment_from_plan(environment: str, plan: dict[str, Any] | None = None) -> Deployment:
    """The settings that drive the bill, read from the environment's committed offline plan."""
    path = REPO / "terraform" / "plan-snapshots" / f"{environment}.json"
    if plan is None:
        plan = json.loads(path.read_text(encoding="utf-8"))
    # Resources billed per use that the model prices; any other is listed as not priced.
    unpriced = [
        addr
        for rtype in METERED_TYPES
        for addr in _resources(plan, rtype)
        if not re.search(
            r"aws_glue_job\.(ingest|views)$|\.module\.(trigger|recorder)\..*aws_lambda_function"
            r"|aws_sfn_state_machine\.pipeline$"
            r"|module\.maintenance\.(aws_glue_job|aws_sfn_state_machine|aws_scheduler_schedule)\.maintenance$",
            addr,
        )
    ]
    maintenance = None
    schedules = _resources(plan, "aws_scheduler_schedule")
    maintenance_jobs = [
        v for a, v in _resources(plan, "aws_glue_job").items() if a.endswith("aws_glue_job.maintenance")
    ]
    if maintenance_jobs:
        schedule = next(v for a, v in schedules.items() if a.endswith("aws_scheduler_schedule.maintenance"))
        enabled = schedule["state"] == "ENABLED"
        maintenance = Maintenance(
            GlueJob(maintenance_jobs[0]["worker_type"], maintenance_jobs[0]["number_of_workers"]),
            runs_per_month(schedule["schedule_expression"]) if enabled else 0.0,
        )
    jobs = {}
    for name in ("ingest", "views"):
        job = _one(plan, "aws_glue_job", f"aws_glue_job.{name}")
        if float(job["glue_version"]) < 2.0 or job["execution_class"] != "STANDARD":
            raise ValueError(
                f"{name} job: Glue {job['glue_version']} {job['execution_class']} is billed otherwise"
            )
        jobs[name] = job
    memory = {}
    for addr, fn in _resources(plan, "aws_lambda_function").items():
        if isinstance(fn.get("architectures"), list) and "arm64" in fn["architectures"]:
            raise ValueError(f"{addr}: arm64 has no price in cost/prices.json")
        for role in ("trigger", "recorder"):
            if f".module.{role}." in addr:
                memory[role] = fn["memory_size"]
    retention: dict[str, int] = {}
    for group in _resources(plan, "aws_cloudwatch_log_group").values():
        kind = next((k for prefix, k in LOG_GROUP_KINDS if group["name"].startswith(prefix)), None)
        if kind is None:
            unpriced.append(f"log group {group['name']}")
        else:
            retention[kind] = max(retention.get(kind, 0), group["retention_in_days"])
    lifecycle = {
        addr.split('["')[-1].rstrip('"]'): v["rule"]
        for addr, v in _resources(plan, "aws_s3_bucket_lifecycle_configuration").items()
        if '["' in addr
    }
    table_buckets = list(_resources(plan, "aws_s3tables_table_bucket").values())
    s3t_history = None
    if table_buckets:
        settings = table_buckets[0]["maintenance_configuration"]["iceberg_unreferenced_file_removal"][
            "settings"
        ]
        s3t_history = settings["unreferenced_days"] + settings["non_current_days"]
    alarms = _resources(plan, "aws_cloudwatch_metric_alarm").values()
    tracing = any(
        tc.get("mode") == "Active"
        for fn in _resources(plan, "aws_lambda_function").values()
        for tc in fn.get("tracing_config", [])
    ) or any(
        tc.get("enabled")
        for sm in _resources(plan, "aws_sfn_state_machine").values()
        for tc in sm.get("tracing_configuration", [])
    )
    return Deployment(
        environment=environment,
        region=region_of(environment),
        ingest=GlueJob(jobs["ingest"]["worker_type"], jobs["ingest"]["number_of_workers"]),
        views=GlueJob(jobs["views"]["worker_type"], jobs["views"]["number_of_workers"]),
        max_concurrent_runs=jobs["ingest"]["execution_property"][0]["max_concurrent_runs"],
        trigger_memory_mb=memory["trigger"],
        recorder_memory_mb=memory["recorder"],
        log_retention_days=retention,
        raw_retention_days=_lifecycle_days(lifecycle["raw"], "raw-landing", "days"),
        warehouse_noncurrent_days=_lifecycle_days(
            lifecycle["warehouse"], "whole-bucket-hygiene", "noncurrent_days"
        ),
        athena_results_days=_lifecycle_days(lifecycle["athena_results"], "query-results", "days"),
        s3tables_history_days=s3t_history,
        # A metric math alarm is billed per metric it reads, not for the expression.
        alarm_metrics=sum(
            sum(1 for q in a.get("metric_query") or [] if q.get("metric")) or 1 for a in alarms
        ),
        dashboards=len(_resources(plan, "aws_cloudwatch_dashboard")),
        kms_keys=len(_resources(plan, "aws_kms_key")),
        tracing=tracing,
        source=str(path.relative_to(REPO)),
        unpriced=tuple(unpriced),
        maintenance=maintenance,
    )


# ---------------------------------------------------------------- Glue durations from the benchmark
@dataclass(frozen=True)
class JobRun:
    seconds: float  # modelled wall time of one run
    billed_seconds: float
    dpu: float
    how: str


def ingest_fit(throughput: dict[str, Any], case: str) -> tuple[float, float]:
    """(fixed seconds, seconds per file line) of the ingest job body on the bench machine: the line through
    the case's two measured sizes (lines read vs job-body seconds)."""
    points = sorted((p["rows_read"], p["body_s"]) for p in throughput["ingest"][case])
    if len(points) != 2:
        raise ValueError(f"case {case!r}: expected two measured sizes, found {len(points)}")
    (x1, y1), (x2, y2) = points
    per_line = (y2 - y1) / (x2 - x1)
    return y1 - per_line * x1, per_line


def glue_slots(job: GlueJob, worker_types: dict[str, Any]) -> int:
    """Task slots of a Glue job: one worker runs the driver, the others one vCPU per task slot."""
    return (job.workers - 1) * worker_types[job.worker_type]["vcpu"]


def glue_run(
    job: GlueJob,
    work_s: float,
    per_line_s: float,
    lines: float,
    throughput: dict[str, Any],
    prices: dict[str, Any],
    start_overhead_s: float,
) -> JobRun:
    worker = prices["glue_worker_types"][job.worker_type]
    local_slots, slots = throughput["spark_task_slots"], glue_slots(job, prices["glue_worker_types"])
    session = throughput["spark_session_start_s"]
    scaled = per_line_s * lines * local_slots / slots
    seconds = start_overhead_s + session + work_s + scaled
    minimum = prices["glue_minimum_billed_seconds"]["seconds"]
    billed = max(minimum, seconds)
    dpu = worker["dpu"] * job.workers
    how = (
        f"{start_overhead_s:g} s start + {session:g} s session + {work_s:.2f} s fixed"
        + (
            f" + {per_line_s * 1e6:.2f} µs/line x {lines:,.0f} lines x {local_slots}/{slots} task slots"
            if lines
            else ""
        )
        + f" = {seconds:.1f} s, billed {billed:.0f} s{' (1-minute minimum)' if billed == minimum else ''}"
        + f" x {dpu:g} DPU ({job.worker_type} x {job.workers})"
    )
    return JobRun(seconds, billed, dpu, how)


# ---------------------------------------------------------------- the estimate
@dataclass(frozen=True)
class Line:
    group: str
    item: str
    quantity: float
    unit: str
    price_key: str
    unit_price: float

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_price


@dataclass
class Estimate:
    lines: list[Line]
    notes: list[str]
    warnings: list[str]

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)


def estimate(
    profile: dict[str, Any],
    deployment: Deployment,
    prices: dict[str, Any],
    throughput: dict[str, Any],
    asl: dict[str, Any],
    job_metrics: tuple[int, int],
    maintenance_asl: dict[str, Any] | None = None,
) -> Estimate:
    """`job_metrics`: the jobs' custom metrics per dataset, PutMetricData calls per successful execution."""
    a = profile["assumptions"]
    price = {k: v["price"] for k, v in prices["prices"].items()}
    lines: list[Line] = []
    notes: list[str] = []
    warnings: list[str] = [f"not priced: {name}" for name in deployment.unpriced]

    def add(group: str, item: str, quantity: float, unit: str, key: str) -> None:
        lines.append(Line(group, item, quantity, unit, key, price[key]))

    # Volumes per month. Every file is one execution; a share of them fails in the ingest job.
    files = profile["files_per_day"] * DAYS_PER_MONTH + profile.get("period_end_files", 0)
    failed = files * profile["failed_run_share"]
    succeeded = files - failed
    datasets, s3t_datasets = profile["datasets"], profile.get("s3tables_datasets", 0)
    glue_datasets = datasets - s3t_datasets
    if not 0 <= s3t_datasets <= datasets:
        raise ValueError("s3tables_datasets must be between 0 and datasets")
    if s3t_datasets and deployment.s3tables_history_days is None:
        raise ValueError(f"the profile has S3 Tables datasets but {deployment.source} has no table bucket")
    lines_per_file = profile["rows_per_file"]
    queries = profile["queries_per_day"] * DAYS_PER_MONTH

    # Glue: job durations from the benchmark's throughput, 1-minute minimum, workers from the plan.
    work_s, per_line = ingest_fit(throughput, profile["ingest_case"])
    ingest = glue_run(
        deployment.ingest, work_s, per_line, lines_per_file, throughput, prices, a["glue_start_overhead_s"]
    )
    bench_views = throughput["views"]
    view_work = bench_views["first_run_s"] * profile["split_values_per_dataset"] / bench_views["views"]
    views = glue_run(deployment.views, view_work, 0.0, 0, throughput, prices, a["glue_start_overhead_s"])
    add("Glue", "ingest job", files * ingest.billed_seconds / 3600 * ingest.dpu, "DPU-hours", "glue_dpu_hour")
    add("Glue", "view job", succeeded * views.billed_seconds / 3600 * views.dpu, "DPU-hours", "glue_dpu_hour")
    add(
        "Glue",
        "Data Catalog requests",
        files * a["catalog_requests_per_run"] + queries * a["catalog_requests_per_query"],
        "requests",
        "glue_catalog_request",
    )
    maintenance = deployment.maintenance
    if maintenance:
        # No measurement of the maintenance job exists: its run time is a profile assumption.
        run = glue_run(
            maintenance.job, a["maintenance_run_s"], 0.0, 0, throughput, prices, a["glue_start_overhead_s"]
        )
        add(
            "Glue",
            "maintenance job",
            maintenance.runs_per_month * datasets * run.billed_seconds / 3600 * run.dpu,
            "DPU-hours",
            "glue_dpu_hour",
        )
        notes.append(
            f"maintenance: {maintenance.runs_per_month:g} scheduled runs a month x {datasets} datasets, each "
            f"{run.how} (assumed {a['maintenance_run_s']} s of work)"
        )
    notes.append(
        f"ingest run ({profile['ingest_case']!r}, fitted to {throughput['source_short']}): {ingest.how}"
    )
    notes.append(
        f"view run ({profile['split_values_per_dataset']} views; {bench_views['first_run_s']} s for "
        f"{bench_views['views']} views in the bench): {views.how}"
    )

    # Lambda: the trigger once per file, the recorder once per execution (memory from the plan).
    for name, memory, ms in (
        ("trigger", deployment.trigger_memory_mb, a["trigger_duration_ms"]),
        ("run recorder", deployment.recorder_memory_mb, a["recorder_duration_ms"]),
    ):
        add("Lambda", f"{name} requests", files, "requests", "lambda_request")
        add(
            "Lambda",
            f"{name} duration ({memory} MB)",
            files * ms / 1000 * memory / 1024,
            "GB-seconds",
            "lambda_gb_second_x86",
        )

    # Step Functions: transitions from the ASL; each capacity retry is one more.
    per_run = transitions_per_run(asl)
    maintenance_transitions = 0
    if deployment.maintenance:
        maintenance_asl = maintenance_asl or load_asl(MAINTENANCE_ASL_PATH)
        states = maintenance_asl["States"]
        maintenance_transitions = success_transitions(states, maintenance_asl["StartAt"], datasets)
    task, retrier = first_task_with_retry(asl)
    burst = profile.get("period_end_files", 0)
    concurrency = deployment.max_concurrent_runs
    retries = sum(expected_retries((i // concurrency) * ingest.seconds, retrier) for i in range(burst))
    worst = expected_retries(((burst - 1) // concurrency) * ingest.seconds, retrier) if burst else 0.0
    if worst > retrier["MaxAttempts"]:
        warnings.append(
            f"the last of {burst} period-end files would need {worst:.0f} capacity retries of {task}, "
            f"more than MaxAttempts {retrier['MaxAttempts']}: raise max_concurrent_runs or spread the burst"
        )
    add(
        "Step Functions",
        "state transitions",
        succeeded * per_run["success"]
        + failed * per_run["ingest_failed"]
        + retries
        + (maintenance.runs_per_month * maintenance_transitions if maintenance else 0),
        "transitions",
        "sfn_state_transition",
    )
    notes.append(
        f"transitions per execution from {ASL_PATH.relative_to(REPO)}: {per_run['success']} for a success, "
        f"{per_run['ingest_failed']} when the ingest job fails, +1 per capacity retry of {task}"
        + (
            f"; the {burst} period-end files at {concurrency} concurrent runs wait for a slot: "
            f"{retries:,.0f} retries expected in all (retrier {retrier['IntervalSeconds']} s x "
            f"{retrier['BackoffRate']} up to {retrier['MaxDelaySeconds']} s, {retrier.get('JitterStrategy')} "
            "jitter)"
            if burst
            else ""
        )
    )

    # S3: raw files for the raw retention, tables and their not yet deleted history, Athena results.
    csv_bytes = lines_per_file * throughput["csv_bytes_per_line"]
    table_bytes = profile["table_rows_per_dataset"] * throughput["parquet_bytes_per_row"]
    touched = min(1.0, profile["split_values_per_file"] / profile["split_values_per_dataset"])
    runs_per_day_per_dataset = files / DAYS_PER_MONTH / datasets
    rewritten_per_run = table_bytes * touched  # copy-on-write: a touched split partition is rewritten whole
    glue_history_days = profile["snapshot_retention_days"] + deployment.warehouse_noncurrent_days
    if not deployment.maintenance:
        notes.append(
            f"{deployment.source} has no table maintenance: nothing expires old snapshots, so table history "
            "grows without bound; the storage lines assume they expire after "
            f"{profile['snapshot_retention_days']} days"
        )
    raw_gb = files / DAYS_PER_MONTH * deployment.raw_retention_days * csv_bytes / GB
    warehouse_gb = (
        glue_datasets * (table_bytes + runs_per_day_per_dataset * glue_history_days * rewritten_per_run) / GB
    )
    results_gb = (
        profile["queries_per_day"] * deployment.athena_results_days * a["result_bytes_per_query"] / GB
    )
    add(
        "S3",
        f"raw CSV files ({deployment.raw_retention_days} days)",
        raw_gb,
        "GB-months",
        "s3_standard_gb_month",
    )
    add(
        "S3",
        f"Glue-target tables + {glue_history_days} days of history",
        warehouse_gb,
        "GB-months",
        "s3_standard_gb_month",
    )
    add(
        "S3",
        f"Athena results ({deployment.athena_results_days} days)",
        results_gb,
        "GB-months",
        "s3_standard_gb_month",
    )
    split_puts, split_gets = a["s3_put_per_split_value"], a["s3_get_per_split_value"]
    glue_share = glue_datasets / datasets
    add(
        "S3",
        "PUT/COPY/LIST requests",
        files * (a["s3_put_per_run"] + glue_share * split_puts * profile["split_values_per_file"])
        + queries * a["s3_put_per_query"],
        "requests",
        "s3_put_request",
    )
    add(
        "S3",
        "GET requests",
        files * (a["s3_get_per_run"] + glue_share * split_gets * profile["split_values_per_file"])
        + queries * a["s3_get_per_query"],
        "requests",
        "s3_get_request",
    )
    notes.append(
        f"storage is the steady state once {deployment.raw_retention_days} days of files have landed: "
        f"{csv_bytes / MIB:,.1f} MiB per file, {table_bytes / GB:,.2f} GiB per table "
        f"({throughput['csv_bytes_per_line']} B per CSV line, {throughput['parquet_bytes_per_row']} B per "
        f"table row); each run rewrites {touched:.2%} of a table (copy-on-write, "
        f"{profile['split_values_per_file']} of {profile['split_values_per_dataset']} split partitions)"
    )

    # S3 Tables: the same table volumes in a table bucket, its monitoring and compaction.
    if s3t_datasets:
        s3t_history = profile["snapshot_retention_days"] + deployment.s3tables_history_days
        s3t_runs = files * s3t_datasets / datasets
        partition_bytes = table_bytes / profile["split_values_per_dataset"]
        objects = (
            s3t_datasets
            * profile["split_values_per_dataset"]
            * max(1, math.ceil(partition_bytes / S3TABLES_TARGET_FILE_BYTES))
        )
        add(
            "S3 Tables",
            f"tables + {s3t_history} days of history",
            s3t_datasets * (table_bytes + runs_per_day_per_dataset * s3t_history * rewritten_per_run) / GB,
            "GB-months",
            "s3tables_gb_month",
        )
        add(
            "S3 Tables",
            "PUT requests",
            s3t_runs * split_puts * profile["split_values_per_file"],
            "requests",
            "s3tables_put_request",
        )
        add(
            "S3 Tables",
            "GET requests",
            s3t_runs * split_gets * profile["split_values_per_file"],
            "requests",
            "s3tables_get_request",
        )
        add("S3 Tables", "object monitoring", objects, "objects", "s3tables_object_monitoring")
        add(
            "S3 Tables",
            "compaction, objects",
            s3t_runs * profile["split_values_per_file"],
            "objects",
            "s3tables_compaction_object",
        )
        add(
            "S3 Tables", "compaction, data", s3t_runs * rewritten_per_run / GB, "GB", "s3tables_compaction_gb"
        )
        notes.append(
            "S3 Tables compaction is counted for every data file a run writes (an upper bound: files "
            "already at the target size are skipped)"
        )

    # Athena: bytes scanned, 10 MB minimum per query, rounded up to the MB.
    billed_query = max(ATHENA_MINIMUM_BYTES, math.ceil(profile["bytes_scanned_per_query"] / MIB) * MIB)
    add("Athena", "data scanned", queries * billed_query / TIB, "TB", "athena_tb_scanned")

    # KMS: keys in the plan, requests per run and per query.
    add("KMS", "customer managed keys", deployment.kms_keys, "key-months", "kms_key_month")
    add(
        "KMS",
        "requests",
        files * a["kms_requests_per_run"] + queries * a["kms_requests_per_query"],
        "requests",
        "kms_request",
    )

    # CloudWatch: alarms and dashboards in the plan, the jobs' custom metrics, logs and their retention.
    add("CloudWatch", "alarms", deployment.alarm_metrics, "alarm metrics", "cloudwatch_alarm_month")
    add("CloudWatch", "dashboards", deployment.dashboards, "dashboards", "cloudwatch_dashboard_month")
    add(
        "CloudWatch",
        "custom metrics",
        datasets * job_metrics[0],
        "metrics",
        "cloudwatch_metric_month",
    )
    add(
        "CloudWatch",
        "PutMetricData requests",
        succeeded * job_metrics[1],
        "requests",
        "cloudwatch_put_metric_request",
    )
    log_bytes = a["log_bytes"]
    logs_gb = {
        "glue": (files * log_bytes["glue_ingest_run"] + succeeded * log_bytes["glue_view_run"]) / GB,
        "lambda": 2 * files * log_bytes["lambda_invocation"] / GB,
        "states": failed * log_bytes["states_failed_execution"] / GB,
    }
    add("CloudWatch", "logs ingested", sum(logs_gb.values()), "GB", "cloudwatch_logs_ingest_gb")
    add(
        "CloudWatch",
        "logs stored (" + ", ".join(f"{k} {deployment.log_retention_days[k]} d" for k in logs_gb) + ")",
        sum(gb * deployment.log_retention_days[k] / DAYS_PER_MONTH for k, gb in logs_gb.items()),
        "GB-months",
        "cloudwatch_logs_storage_gb_month",
    )
    if deployment.tracing:
        add("X-Ray", "traces", files * a["traces_per_file"], "traces", "xray_trace")
    return Estimate(lines, notes, warnings)


# ---------------------------------------------------------------- output
def _qty(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}" if x >= 1 or x == 0 else f"{x:.3g}"


def _price(x: float) -> str:
    return f"{x * 1e6:.4g} per million" if 0 < x < 0.001 else f"{x:g}"


def render_table(est: Estimate) -> str:
    rows = [
        "| service | item | quantity / month | unit price (USD) | USD / month |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for line in est.lines:
        rows.append(
            f"| {line.group} | {line.item} | {_qty(line.quantity)} {line.unit} | {_price(line.unit_price)} | "
            f"{line.usd:,.2f} |"
        )
    groups: dict[str, float] = {}
    for line in est.lines:
        groups[line.group] = groups.get(line.group, 0.0) + line.usd
    rows.append(
        f"| **total** | {', '.join(f'{g} {v:,.2f}' for g, v in groups.items())} | | | **{est.total:,.2f}** |"
    )
    return "\n".join(rows)


def readme_block(est: Estimate) -> str:
    """The table and its warnings (e.g. a resource not priced), as the README shows them."""
    return "\n".join([render_table(est)] + [f"\nWARNING: {w}" for w in est.warnings])


def render(
    est: Estimate, profile: dict[str, Any], deployment: Deployment, prices: dict[str, Any], profile_path: Path
) -> str:
    d = deployment
    shown_path = profile_path.relative_to(REPO) if profile_path.is_relative_to(REPO) else profile_path
    out = [
        f"# Monthly estimate: {profile['name']} ({shown_path})",
        f"environment {d.environment} in {d.region}, settings from {d.source}: ingest "
        f"{d.ingest.worker_type} x {d.ingest.workers}, views {d.views.worker_type} x {d.views.workers}, "
        f"{d.max_concurrent_runs} concurrent runs, Lambda {d.trigger_memory_mb}/{d.recorder_memory_mb} MB, "
        "log retention " + ", ".join(f"{k} {v}" for k, v in sorted(d.log_retention_days.items())) + " days, "
        f"raw files {d.raw_retention_days} days, {d.alarm_metrics} alarm metrics, {d.dashboards} dashboards, "
        f"{d.kms_keys} KMS key(s); {DAYS_PER_MONTH} days a month; no free tier deducted",
        "",
        render_table(est),
        "",
    ]
    out += [f"- {note}" for note in est.notes]
    unconfirmed = [
        f"{k} ({v['region']})"
        for k, v in prices["prices"].items()
        if not v["confirmed"] and any(line.price_key == k for line in est.lines)
    ]
    out.append(
        f"- prices not confirmed for {prices['region']} (see their notes in cost/prices.json): "
        + ", ".join(unconfirmed)
    )
    out.append(
        "- not included: data transfer out of AWS, S3 server access logs, the trigger's SQS dead-letter "
        "queue and SNS notifications (a few requests), Glue's own job and observability metrics, key "
        "rotation's extra key-months, support plans, taxes"
    )
    warnings = est.warnings + (
        [f"cost/prices.json is for {prices['region']}, the environment deploys to {d.region}"]
        if prices["region"] != d.region
        else []
    )
    out += [f"WARNING: {w}" for w in warnings]
    return "\n".join(out)


def load(profile_path: Path) -> tuple[dict[str, Any], Deployment, dict[str, Any], dict[str, Any]]:
    profile = json.loads(profile_path.read_text(encoding="utf-8"))
    prices = json.loads((COST_DIR / "prices.json").read_text(encoding="utf-8"))
    throughput = json.loads((COST_DIR / "throughput.json").read_text(encoding="utf-8"))
    return profile, deployment_from_plan(profile["environment"]), prices, throughput


def job_metrics() -> tuple[int, int]:
    """Custom metrics per dataset and PutMetricData calls per successful execution, as the jobs put them
    (lakepipe/metrics.py: each job run puts its data in one call, up to 1,000 data per call)."""
    from lakepipe import metrics

    runs = (
        metrics.ingest_metric_data("d", dict.fromkeys(metrics.INGEST_COUNTS, 0), 0.0),
        metrics.view_metric_data("d", {}, 0.0),
    )
    return len({d["MetricName"] for data in runs for d in data}), sum(math.ceil(len(d) / 1000) for d in runs)


def run(profile_path: Path) -> tuple[Estimate, str]:
    profile, deployment, prices, throughput = load(profile_path)
    est = estimate(profile, deployment, prices, throughput, load_asl(), job_metrics())
    return est, render(est, profile, deployment, prices, profile_path)


def write_readme(readme: Path = REPO / "README.md") -> None:
    """Replace the README's generated tables (between their markers) with the current output."""
    text = readme.read_text(encoding="utf-8")
    for name, (start, end) in README_MARKERS.items():
        est, _ = run(COST_DIR / f"{name}.json")
        block = f"{start}\n{readme_block(est)}\n{end}"
        text, n = re.subn(
            re.escape(start) + r".*?" + re.escape(end), lambda _m, b=block: b, text, flags=re.DOTALL
        )
        if n != 1:
            raise SystemExit(f"README.md: expected one {start} ... {end} block, found {n}")
    readme.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, default=COST_DIR / "usage-profile.json")
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="rewrite the README's 'What it costs' tables from the bundled profiles",
    )
    args = parser.parse_args(argv)
    if args.write_readme:
        write_readme()
        return 0
    _, text = run(args.profile.resolve())
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
