"""Run a Glue 5.0 (Spark 3.5, Python 3.11) job script locally, against the local AWS endpoint.

``run_glue_script(script_location, arguments, *, endpoint_url, state_dir, timeout_s, log_path)``
is what the endpoint's StartJobRun calls (localcloud/executors/glue_exec.py). ``arguments`` are the
job's DefaultArguments already merged with the run's Arguments by the caller (run arguments override
defaults, as on AWS). See README.md in this folder for the behaviour and every difference from Glue.
``credentials`` (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN of the job's role, from the
endpoint's StartJobRun) sign everything done for the job: the script's boto3, fetching the script and
modules, the S3 mirror Spark reads and writes through, and the Glue catalog sync; without them (manual runs,
tests) the endpoint's admin keys are used.

The job script runs in a driver process of localcloud.glue.pool (its own process group and JVM, warm
across runs, or one per run with LOCALCLOUD_GLUE_WARM=0), so a crashing or hanging job never takes the
endpoint down and a timeout can kill its driver whole.

``prewarm_job(arguments, ...)`` (the endpoint's CreateJob/UpdateJob) has the pool start drivers built the way
that job's runs need them (``driver_build``), before its first run.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from localcloud.glue import catalog_sync, faults
from localcloud.glue import pool as glue_pool
from localcloud.glue.conf import ParsedConf, parse_conf_argument, repoint
from localcloud.glue.s3sync import Mirror, read_journal, s3_uris

DEFAULT_REGION = "us-east-1"
# Arguments whose s3:// URIs are not mirrored for Spark: fetched separately (scripts, modules,
# jars, files), replaced by local catalogs (--conf), or Glue's own scratch space.
NOT_MIRRORED = {"--conf", "--extra-py-files", "--extra-jars", "--extra-files", "--scriptLocation", "--TempDir",
                "--spark-event-logs-path", "--additional-python-modules"}
# Glue arguments that configure Glue's service, not the script; noted in the log when they cannot
# apply locally.
IGNORED_WITH_NOTE = {
    "--additional-python-modules": "modules are not pip-installed per run; the local venv's packages are used",
    "--python-modules-installer-option": "see --additional-python-modules",
    "--enable-glue-datacatalog": "Spark's Hive session catalog is not backed by Glue locally; use Iceberg catalogs",
    "--user-jars-first": "the local class path puts the Iceberg runtime first",
    "--enable-spark-ui": "the Spark UI is off locally",
}


@dataclass
class GlueRunResult:
    state: str  # SUCCEEDED | FAILED | TIMEOUT
    error_message: str | None
    started_on: datetime
    completed_on: datetime
    job_run_id: str = ""
    timings: dict = field(default_factory=dict)  # seconds per phase, for the log and benchmarks

    @property
    def execution_time(self) -> int:
        return int((self.completed_on - self.started_on).total_seconds())


class _RunLog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by the runner

    def __call__(self, msg: str) -> None:
        self.f.write(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ} localcloud-glue: {msg}\n")
        self.f.flush()


def _normalize(arguments: dict[str, str]) -> dict[str, str]:
    return {(k if k.startswith("--") else f"--{k}"): str(v) for k, v in (arguments or {}).items()}


def _fetch(location: str, dest_dir: Path, s3) -> Path:
    """s3://bucket/key, file://path or a local path -> a local file (copied into dest_dir for s3)."""
    parsed = urlparse(location)
    if parsed.scheme in ("s3", "s3a", "s3n"):
        key = parsed.path.lstrip("/")
        dest = dest_dir / Path(key).name
        dest_dir.mkdir(parents=True, exist_ok=True)
        try:
            s3.download_file(parsed.netloc, key, str(dest))
        except Exception as e:
            raise FileNotFoundError(f"cannot fetch {location} from the endpoint: {e}") from e
        return dest
    path = Path(parsed.path if parsed.scheme == "file" else location)
    if not path.is_file():
        raise FileNotFoundError(f"{location} does not exist")
    return path.resolve()


def _fetch_list(value: str | None, dest_dir: Path, s3) -> list[Path]:
    return [_fetch(v.strip(), dest_dir, s3) for v in (value or "").split(",") if v.strip()]


def _fetch_jars(value: str | None, state_dir: Path, s3) -> list[Path]:
    """--extra-jars as local files; jars from S3 are stored by content under <state_dir>/jars, so every run
    of a job (and its pre-warmed drivers) names the same files: the driver's build signature holds them."""
    jars = []
    for v in (value or "").split(","):
        if not v.strip():
            continue
        if urlparse(v.strip()).scheme not in ("s3", "s3a", "s3n"):
            jars.append(_fetch(v.strip(), state_dir, s3))
            continue
        fetched = _fetch(v.strip(), state_dir / "jars" / f"incoming-{secrets.token_hex(8)}", s3)
        digest = hashlib.sha256(fetched.read_bytes()).hexdigest()[:16]
        stored = state_dir / "jars" / digest / fetched.name
        stored.parent.mkdir(parents=True, exist_ok=True)
        os.replace(fetched, stored)
        shutil.rmtree(fetched.parent, ignore_errors=True)
        jars.append(stored)
    return jars


def job_conf(args: dict[str, str]) -> ParsedConf:
    """The job's --conf as a local driver takes it (AWS-backed catalogs re-pointed, AWS-only keys dropped)."""
    return repoint(parse_conf_argument(args.get("--conf")))


def driver_build(parsed: ParsedConf, jars: list[Path]) -> dict:
    """What a driver's SparkContext is built from: the run spec's ``jars`` and ``spark_conf`` (the driver
    keeps the static keys of it: driver.build_signature)."""
    return {"jars": [str(p) for p in jars], "spark_conf": parsed.spark_conf}


def glue_argv(script: Path, args: dict[str, str], job_name: str, job_run_id: str) -> list[str]:
    """sys.argv as Glue passes it: reserved run parameters first, then every job argument."""
    argv = [str(script), "--JOB_ID", f"j_{job_name}", "--JOB_RUN_ID", job_run_id, "--JOB_NAME", job_name]
    if "--job-bookmark-option" not in args:
        argv += ["--job-bookmark-option", "job-bookmark-disable"]
    for k, v in args.items():
        if k in ("--JOB_ID", "--JOB_RUN_ID", "--JOB_NAME"):
            continue
        argv += [k, v]
    return argv


ADMIN_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _subprocess_env(endpoint_url: str, region: str, credentials: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYSPARK_", "SPARK_")) and k != "PYTHONSTARTUP"}
    env.update({
        # boto3 inside the job talks to the local endpoint as the job's role, never to AWS.
        "AWS_ENDPOINT_URL": endpoint_url,
        **credentials,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if "SPARK_LOCAL_IP" in os.environ:
        env["SPARK_LOCAL_IP"] = os.environ["SPARK_LOCAL_IP"]
    else:
        env["SPARK_LOCAL_IP"] = "127.0.0.1"  # no hostname lookups, no warnings about loopback
    return env


def session_admin_s3tables(endpoint_url: str, region: str):
    """The endpoint's own view of S3 Tables (which namespaces a federated catalog holds): admin keys, not the
    job's role (on AWS this mapping is the catalog federation itself, not a call the job makes)."""
    import boto3

    return boto3.client("s3tables", region_name=region, endpoint_url=endpoint_url,
                        aws_access_key_id=ADMIN_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=ADMIN_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


def run_glue_script(script_location: str, arguments: dict[str, str], *, endpoint_url: str, state_dir: Path,
                    timeout_s: int, log_path: Path, job_name: str | None = None, job_run_id: str | None = None,
                    region: str | None = None, role_arn: str | None = None,
                    credentials: dict[str, str] | None = None) -> GlueRunResult:
    """Run one Glue job run to completion; never raises for job failures (they are the result)."""
    import boto3
    from botocore.config import Config

    started_on = datetime.now(UTC)
    t0 = time.monotonic()
    deadline = t0 + timeout_s
    state_dir = Path(state_dir).resolve()
    log = _RunLog(Path(log_path))
    job_run_id = job_run_id or f"jr_{secrets.token_hex(32)}"
    job_name = job_name or Path(urlparse(script_location).path).stem or "local-job"
    region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    run_dir = state_dir / "runs" / job_run_id
    state, error, timings = "FAILED", None, {}
    try:
        credentials = credentials or ADMIN_CREDENTIALS
        session = boto3.session.Session(aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                                        aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
                                        region_name=region)
        cfg = Config(retries={"max_attempts": 2, "mode": "standard"})
        s3 = session.client("s3", endpoint_url=endpoint_url, config=cfg)
        glue = session.client("glue", endpoint_url=endpoint_url, config=cfg)
        log(f"run {job_run_id} of {job_name}: {script_location}" + (f" as {role_arn}" if role_arn else ""))
        state, error = _run(script_location, _normalize(arguments), s3, glue, log, state_dir, run_dir, deadline,
                            timeout_s, job_name, job_run_id, endpoint_url, region, timings, credentials)
    except Exception as e:  # noqa: BLE001 - set-up failures (script missing, endpoint down) fail the run
        state, error = "FAILED", f"{type(e).__name__}: {e}"
        log(f"run failed before or after the job: {error}")
    finally:
        completed_on = datetime.now(UTC)
        timings["total_s"] = round(time.monotonic() - t0, 2)
        log(f"run {job_run_id}: {state}{' - ' + error if error else ''}; timings {json.dumps(timings)}")
        log.f.close()
    return GlueRunResult(state, error, started_on, completed_on, job_run_id, timings)


def _run(script_location, args, s3, glue, log, state_dir, run_dir, deadline, timeout_s, job_name, job_run_id,
         endpoint_url, region, timings, credentials) -> tuple[str, str | None]:
    t = time.monotonic()
    if run_dir.exists():
        shutil.rmtree(run_dir)
    work = run_dir / "work"  # the script's working directory (--extra-files land here, as on Glue)
    work.mkdir(parents=True)
    script = _fetch(script_location, run_dir / "script", s3)
    py_files = _fetch_list(args.get("--extra-py-files"), run_dir / "py", s3)
    jars = _fetch_jars(args.get("--extra-jars"), state_dir, s3)
    for f in _fetch_list(args.get("--extra-files"), run_dir / "files", s3):
        shutil.copy2(f, work / f.name)
    for k, note in IGNORED_WITH_NOTE.items():
        if k in args:
            log(f"{k} {args[k]!r} ignored: {note}")

    parsed = job_conf(args)
    for k, v in parsed.dropped.items():
        log(f"--conf {k}={v} dropped (AWS-only or cluster setting)")
    catalogs = {}
    for c in parsed.catalogs:
        catalogs[c.name] = str(state_dir / "iceberg" / c.name)
        log(f"catalog {c.name} ({c.kind}: {c.original.get('catalog-impl') or c.original.get('type')}) -> "
            f"local Iceberg JDBC catalog {catalogs[c.name]}")
    federated = catalog_sync.federated_catalog_ids(parsed.catalogs, session_admin_s3tables(endpoint_url, region)) \
        if catalogs else {}
    fault = faults.claim(faults.faults_dir(state_dir), args) if catalogs else None  # tests only (faults.py)
    if fault:
        log(f"fault {fault['name']} armed for this run: {fault['action']} at the commit of "
            f"{fault['namespace']}.{fault['table']}")
    timings["fetch_s"] = round(time.monotonic() - t, 2)

    # Runs overlap; only the catalog syncs are serialised (Glue is the source of truth, the local JDBC
    # catalogs are where Spark's commits race, as they would on Glue: see catalog_sync).
    t = time.monotonic()
    catalog_dirs = {name: Path(d) for name, d in catalogs.items()}
    presynced: dict = {}
    if catalogs:
        with catalog_sync.sync_lock(state_dir / "iceberg"):
            presynced = catalog_sync.presync(glue, catalog_dirs, federated, log)
    timings["presync_s"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    mirror = Mirror(run_dir / "s3")
    mirrored_values = [v for k, v in args.items() if k not in NOT_MIRRORED]
    mirrored_values += [v for v in parsed.spark_conf.values()]
    uris = s3_uris(mirrored_values)
    mirror.pull(s3, uris, log)
    log(f"s3 mirror: {mirror.downloaded} objects ({mirror.downloaded_bytes} bytes) under "
        f"{', '.join(f's3://{b}/{k}' for b, k in uris) or 'no s3:// arguments'}")
    timings["s3_pull_s"] = round(time.monotonic() - t, 2)

    spec_path = run_dir / "spec.json"
    result_path = run_dir / "result.json"
    journal_path = run_dir / "s3_write_through.jsonl"  # what the job's boto3 calls already put into S3
    spec = {
        "app_name": f"{job_name}-{job_run_id[:12]}",
        "script": str(script),
        "argv": glue_argv(script, args, job_name, job_run_id),
        "py_files": [str(p) for p in py_files],
        **driver_build(parsed, jars),
        "catalogs": catalogs,
        "glue_catalogs": list(catalogs),
        "mirror_dir": str(mirror.root),
        "s3_journal_path": str(journal_path),
        "result_path": str(result_path),
        "fault": fault,
    }
    spec_path.write_text(json.dumps(spec, indent=2))

    state, error = "FAILED", None
    t = time.monotonic()
    run_start_ms = int(time.time() * 1000)
    try:
        outcome = glue_pool.shared().run(spec, spec_path, env=_subprocess_env(endpoint_url, region, credentials),
                                         cwd=work, log_file=log.f, timeout_s=max(1.0, deadline - time.monotonic()))
        timings["driver_s"] = round(time.monotonic() - t, 2)
        timings.update(outcome.timings)
        state, error = outcome.state, outcome.error_message
        if state == "TIMEOUT":
            error = f"Job run timed out: it ran longer than its timeout of {timeout_s} seconds"
        if outcome.driver:
            log(f"driver pid {outcome.driver['pid']}: {'new' if outcome.driver['new'] else 'warm'}, "
                f"run {outcome.driver['runs']} on it")
    finally:
        # Write back whatever the run did, even when it failed or timed out: on AWS its S3 writes and
        # Iceberg commits would have happened too.
        t = time.monotonic()
        try:
            synced = read_journal(journal_path)
            uploaded, deleted = mirror.push(s3, log, synced)
            log(f"s3 mirror: uploaded {uploaded}, deleted {deleted} objects ({len(synced)} keys the job's boto3 "
                "calls wrote or deleted were synced during the run, not re-uploaded)")
            if catalogs:
                with catalog_sync.sync_lock(state_dir / "iceberg"):
                    catalog_sync.postsync(glue, catalog_dirs, presynced, federated, log,
                                          _writer(result_path, run_start_ms))
        except Exception as e:  # noqa: BLE001 - reported as the run's failure
            log(f"write-back failed: {type(e).__name__}: {e}")
            if state == "SUCCEEDED":
                state, error = "FAILED", f"{type(e).__name__}: {e}"
        timings["writeback_s"] = round(time.monotonic() - t, 2)
    if state == "SUCCEEDED":
        shutil.rmtree(mirror.root, ignore_errors=True)  # keep the mirror of failed runs for debugging
    return state, error


def prewarm_job(script_location: str, arguments: dict[str, str], *, endpoint_url: str, state_dir: Path,
                region: str | None = None, count: int | None = None):
    """Have the pool start idle drivers built as this job's runs need them (its DefaultArguments: --conf,
    --extra-jars), each warmed up, so its first run finds one. Returns the pool's pre-warming thread, or None
    (cold mode, or the job's script is not there: such a job cannot run yet, e.g. a test's placeholder job).
    Raises when the job's jars cannot be fetched (the endpoint logs it)."""
    import boto3

    args = _normalize(arguments)
    region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    s3 = boto3.client("s3", region_name=region, endpoint_url=endpoint_url,
                      aws_access_key_id=ADMIN_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=ADMIN_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    if not _script_exists(script_location, s3):
        return None
    build = driver_build(job_conf(args), _fetch_jars(args.get("--extra-jars"), Path(state_dir).resolve(), s3))
    return glue_pool.shared().prewarm(build, _subprocess_env(endpoint_url, region, ADMIN_CREDENTIALS), count)


def _script_exists(location: str, s3) -> bool:
    from botocore.exceptions import ClientError

    parsed = urlparse(location or "")
    if parsed.scheme in ("s3", "s3a", "s3n"):
        try:
            s3.head_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
            return True
        except ClientError:
            return False
    return bool(location) and Path(parsed.path if parsed.scheme == "file" else location).is_file()


def _writer(result_path: Path, run_start_ms: int) -> tuple[str, int] | None:
    """The run's Spark application id (from its result) and start: whose commits the write-back is for.
    None when the driver wrote no result (killed): then every local table ahead of Glue is written."""
    try:
        app_id = json.loads(result_path.read_text()).get("spark_app_id")
    except (OSError, ValueError):
        return None
    return (app_id, run_start_ms) if app_id else None


def main(argv: list[str] | None = None) -> int:
    """Run a script by hand: python -m localcloud.glue SCRIPT --endpoint-url URL --arg key=value ..."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m localcloud.glue", description=main.__doc__)
    ap.add_argument("script", help="s3://bucket/key.py or a local path")
    ap.add_argument("--endpoint-url", default="http://127.0.0.1:4566")
    ap.add_argument("--state-dir", default=".localcloud/state/glue")
    ap.add_argument("--timeout-s", type=int, default=3600)
    ap.add_argument("--log", default=None, help="log file (default: <state-dir>/logs/manual/<run id>.log)")
    ap.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                    help="a job argument, e.g. source_uri=s3://b/k.csv (the -- is added; repeatable)")
    ns = ap.parse_args(argv)
    args = {}
    for a in ns.arg:
        key, sep, val = a.partition("=")
        if not sep:
            ap.error(f"--arg {a!r} is not KEY=VALUE")
        args[key] = val
    run_id = f"jr_{secrets.token_hex(32)}"
    log_path = Path(ns.log or Path(ns.state_dir) / "logs" / "manual" / f"{run_id}.log")
    result = run_glue_script(ns.script, args, endpoint_url=ns.endpoint_url, state_dir=Path(ns.state_dir),
                             timeout_s=ns.timeout_s, log_path=log_path, job_run_id=run_id)
    print(json.dumps({"state": result.state, "error_message": result.error_message, "log": str(log_path),
                      "timings": result.timings}, indent=2))
    return 0 if result.state == "SUCCEEDED" else 1

