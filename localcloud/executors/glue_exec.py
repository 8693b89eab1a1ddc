"""Glue job runs executed for real, in background threads, through the Glue runner.

The runner is `localcloud.glue.runner.run_glue_script(script_location, arguments, *, endpoint_url, state_dir,
timeout_s, log_path) -> GlueRunResult(state, error_message, started_on, completed_on)`; LOCALCLOUD_GLUE_RUNNER
("module:function") replaces it (tests use fakes). At most LOCALCLOUD_GLUE_WORKERS runs execute at once;
the others wait in STARTING, as runs waiting for capacity do on AWS. The runner runs each job script in one of
as many warm Spark drivers (localcloud/glue/pool.py); `shutdown()` stops them. `prewarm(job)` (CreateJob,
UpdateJob) has the runner start drivers for the job before its first run, when the runner's module offers
`prewarm_job` (the real runner does; test fakes do not), the drivers are warm (LOCALCLOUD_GLUE_WARM) and
LOCALCLOUD_GLUE_PREWARM is on.

With IAM enforcement on, the run executes as the job's Role: Glue assumes it (trust: glue.amazonaws.com,
aws:SourceAccount/aws:SourceArn = the job) and the runner receives the credentials (`credentials`), which the
job script's boto3 and the runner's own work for the job (script fetch, S3 mirror, catalog sync) sign with.
A role Glue cannot assume fails the run.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import config, principals

log = logging.getLogger("localcloud.glue")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

DEFAULT_TIMEOUT_MIN = 2880  # Glue's default job timeout (48 h)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=config.current().glue_workers, thread_name_prefix="glue-run")
        return _pool


def load_runner() -> Callable[..., Any]:
    spec = config.current().glue_runner
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr or "run_glue_script")


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def submit(job: Any, run: Any) -> None:
    _executor().submit(_execute, job, run)


def shutdown() -> None:
    """Stop the warm Spark drivers (the endpoint's shutdown): each stops its SparkContext, else is killed."""
    from localcloud.glue import pool

    pool.shutdown_shared()


def prewarm(job: Any) -> threading.Thread | None:
    """Start pre-warming drivers for ``job`` in the background; the thread doing it, or None when off."""
    settings = config.current()
    if not (settings.glue_prewarm and settings.glue_warm):
        return None
    module_name = settings.glue_runner.partition(":")[0]
    try:
        prewarm_job = getattr(importlib.import_module(module_name), "prewarm_job", None)
    except ImportError:
        return None
    if prewarm_job is None:
        return None
    arguments = {**(job.default_arguments or {}), **(job.non_overridable_arguments or {})}

    def start() -> None:
        try:
            prewarm_job((job.command or {}).get("ScriptLocation", ""), arguments, endpoint_url=settings.endpoint_url,
                        state_dir=settings.state_dir / "glue", region=job.backend.region_name,
                        count=settings.glue_workers)
        except Exception:
            log.exception("glue job %s: could not pre-warm its drivers", job.name)

    thread = threading.Thread(target=start, name=f"glue-prewarm-{job.name}", daemon=True)
    thread.start()
    return thread


def _execute(job: Any, run: Any) -> None:
    settings = config.current()
    state_dir = settings.state_dir / "glue"
    log_path = state_dir / "logs" / job.name / f"{run.job_run_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    timeout_min = int(run.timeout or job.timeout or DEFAULT_TIMEOUT_MIN)
    script = (job.command or {}).get("ScriptLocation", "")
    run.mark_running()
    log.info("glue job %s run %s: RUNNING %s", job.name, run.job_run_id, script)
    try:
        runner = load_runner()
        extra = {"job_name": job.name, "job_run_id": run.job_run_id, "region": job.backend.region_name,
                 "role_arn": job.role, "credentials": _job_credentials(job)}
        accepted = inspect.signature(runner).parameters
        result = runner(
            script, dict(run.arguments or {}), endpoint_url=settings.endpoint_url, state_dir=state_dir,
            timeout_s=timeout_min * 60, log_path=log_path, **{k: v for k, v in extra.items() if k in accepted},
        )
        state = str(result.state)
        error_message = result.error_message
        started_on, completed_on = _utc(result.started_on), _utc(result.completed_on)
    except principals.ServiceRoleError as exc:
        state, error_message, started_on, completed_on = ("FAILED", f"Glue could not assume the job's role: {exc}",
                                                          None, None)
    except ModuleNotFoundError as exc:
        state, error_message, started_on, completed_on = (
            "FAILED", f"The local Glue runner is not available ({settings.glue_runner}): {exc}", None, None)
    except Exception as exc:
        log.exception("glue runner crashed for %s run %s", job.name, run.job_run_id)
        state, error_message, started_on, completed_on = ("FAILED", f"{type(exc).__name__}: {exc}", None, None)
    if state not in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"):
        error_message = f"the local Glue runner returned an unknown state {state!r}" + (
            f": {error_message}" if error_message else "")
        state = "FAILED"
    run.finish(state, error_message, started_on, completed_on)
    log.log(logging.INFO if state == "SUCCEEDED" else logging.ERROR, "glue job %s run %s: %s%s (%ss)", job.name,
            run.job_run_id, state, f" - {error_message}" if error_message else "", run.execution_time)
    _publish_logs(job, run, log_path)


def _job_credentials(job: Any) -> dict[str, str] | None:
    """The job role's credentials as environment variables; None with LOCALCLOUD_IAM=off (admin keys)."""
    if not config.current().iam_enabled:
        return None
    backend = job.backend
    source = f"arn:aws:glue:{backend.region_name}:{backend.account_id}:job/{job.name}"
    # Glue accepts a role name or ARN.
    role = job.role if job.role.startswith("arn:") else f"arn:aws:iam::{backend.account_id}:role/{job.role}"
    return principals.assume_service_role(role, "glue.amazonaws.com", source_arn=source,
                                          session_name="GlueJobRunnerSession",
                                          region=backend.region_name).env()


def _publish_logs(job: Any, run: Any, log_path: Path) -> None:
    """Copy the run's log into CloudWatch Logs (/aws-glue/jobs/output, stream = run id), as Glue does."""
    try:
        from moto.logs.models import logs_backends

        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        backend = logs_backends[job.backend.account_id][job.backend.region_name]
        group = "/aws-glue/jobs/output" if run.status == "SUCCEEDED" else "/aws-glue/jobs/error"
        backend.ensure_log_group(group)
        backend.create_log_stream(group, run.job_run_id)
        now = int(time.time() * 1000)
        lines = [ln for ln in text.splitlines() if ln][-5000:] or [f"run {run.job_run_id}: {run.status}"]
        if run.error_message:
            lines.append(run.error_message)
        backend.put_log_events(group, run.job_run_id, [{"timestamp": now, "message": ln} for ln in lines])
    except Exception:
        log.exception("could not publish logs of %s", run.job_run_id)
