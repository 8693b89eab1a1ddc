"""The local lake from a user's side: `run` a CSV through the deployed pipeline, `query` it with
Athena or Spark, and the `demo` that does both on the bundled sample.

Everything goes through the local endpoint the way it would go through AWS: the file is uploaded
with the AWS CLI, the S3 notification starts the state machine, and the views are read through the
Athena API or through Spark with the views' SPARK representations. The deployed stack's names come
from `terraform output -json` of environments/local, saved by `make deploy-local` in
.localcloud/stack.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lakepipe.naming import execution_name
from lakepipe.recorder import row_counts, run_paths
from lakepipe.s3util import get_json
from lakepipe.spec import DatasetSpec, parse_spec

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class StepError(RuntimeError):
    """A user-visible failure of one step; main() prints `<step>: <message>` and exits 1."""

    def __init__(self, step: str, message: str):
        super().__init__(f"{step}: {message}")
        self.step = step


# --- environment -----------------------------------------------------------------------------

def local_home() -> Path:
    return Path(os.environ.get("LOCALCLOUD_DIR", REPO / ".localcloud")).resolve()


def endpoint_url() -> str:
    if os.environ.get("AWS_ENDPOINT_URL"):
        return os.environ["AWS_ENDPOINT_URL"]
    return f"http://127.0.0.1:{os.environ.get('LOCALCLOUD_PORT', '4566')}"


def aws_env() -> dict[str, str]:
    """Environment for boto3 and the AWS CLI: the local endpoint and fake credentials."""
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": endpoint_url(),
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_REGION": env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
    })
    return env


def client(service: str):
    env = aws_env()
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


def stack_outputs(path: Path | None = None) -> dict[str, Any]:
    path = path or Path(os.environ.get("LAKEPIPE_STACK_OUTPUTS", local_home() / "stack.json"))
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise StepError("deploy", f"{path} not found: run `make deploy-local` first") from None
    # `terraform output -json` wraps every output as {"value": ..., "type": ...}.
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in raw.items()}


def dataset_spec(name: str, outputs: dict[str, Any]) -> DatasetSpec:
    """The deployed spec of a dataset (the stack's `dataset_specs` output, what the trigger Lambda uses)."""
    specs = {s["name"]: s for s in outputs["dataset_specs"]}
    if name not in specs:
        raise StepError("dataset", f"unknown dataset {name!r}; deployed: {', '.join(sorted(specs))}")
    return parse_spec(specs[name])


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- run -------------------------------------------------------------------------------------

def upload(path: Path, bucket: str, key: str) -> str:
    """`aws s3 cp` (the AWS CLI, as a user would); returns the object's version (VersionId or ETag)."""
    if not path.is_file():
        raise StepError("upload", f"{path}: no such file")
    aws = Path(sys.executable).with_name("aws")
    cmd = [str(aws) if aws.exists() else "aws", "s3", "cp", str(path), f"s3://{bucket}/{key}", "--only-show-errors"]
    done = subprocess.run(cmd, env=aws_env(), check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise StepError("upload", f"aws s3 cp {path} failed: {done.stderr.strip() or done.stdout.strip()}")
    head = client("s3").head_object(Bucket=bucket, Key=key)
    return head.get("VersionId") or head["ETag"].strip('"')


def wait_for_execution(state_machine_arn: str, name: str, deadline_s: float) -> dict[str, Any]:
    """Poll DescribeExecution until the execution is terminal; a progress line per state change."""
    sfn = client("stepfunctions")
    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    end = time.monotonic() + deadline_s
    last = None
    interval = 0.25
    while True:
        try:
            desc = sfn.describe_execution(executionArn=arn)
            status = desc["status"]
        except ClientError as e:
            if e.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise
            desc, status = None, "WAITING FOR THE S3 TRIGGER"
        if status != last:
            progress(f"  [{time.strftime('%H:%M:%S')}] execution {name}: {status}")
            last = status
        if desc and status in TERMINAL:
            return desc
        if time.monotonic() > end:
            raise StepError("wait", f"execution {name} not finished after {deadline_s:.0f}s (last status {status})")
        time.sleep(interval)  # poll interval of a deadline-bounded wait
        interval = min(interval * 1.5, 2.0)


def execution_error(arn: str) -> str | None:
    """The first task failure's cause in the execution history (the job's own message)."""
    sfn = client("stepfunctions")
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        for ev in page["events"]:
            for k, v in ev.items():
                if k.endswith("FailedEventDetails") and isinstance(v, dict):
                    return f"{v.get('error')}: {v.get('cause')}"
    return None


def summarise(record: dict | None, *, status: str, input_path: str, spec: DatasetSpec,
              error: str | None) -> dict[str, Any]:
    ingest = (record or {}).get("ingest") or {}
    counts = row_counts(ingest or None)  # 0, not null, when nothing was loaded
    views = ((record or {}).get("views") or {}).get("views") or []
    return {
        "status": status,
        "input": input_path,
        "table": f"{spec.database}.{spec.table}",
        **counts,
        "rejects_location": ingest.get("rejects_location"),
        "views": [{"split_value": v["split_value"], "view": v["view"], "columns": v["columns"]} for v in views],
        "error": error,
    }


def run_file(path: Path, dataset: str, deadline_s: float) -> tuple[dict[str, Any], dict | None]:
    """Upload -> S3 trigger -> state machine -> both jobs. Returns (summary, run record)."""
    outputs = stack_outputs()
    spec = dataset_spec(dataset, outputs)
    if not path.name.lower().endswith(".csv"):
        # The trigger rejects non-CSV objects (lakepipe.events.decide): nothing would start.
        return summarise(None, status="SKIPPED", input_path=str(path), spec=spec,
                         error=f"{path}: not a .csv file; the S3 trigger ignores it"), None
    bucket = outputs["bucket_names"]["raw"]
    key = f"{spec.raw_prefix}{path.name}"
    progress(f"upload {path} -> s3://{bucket}/{key}")
    version = upload(path, bucket, key)
    name = execution_name(spec.name, bucket, key, version)
    desc = wait_for_execution(outputs["state_machine_arn"], name, deadline_s)
    record = get_json(client("s3"), run_paths(outputs["runs_location"], spec.name, name)["record"])
    error = None
    if desc["status"] != "SUCCEEDED":
        rec_err = (record or {}).get("error") or {}
        error = rec_err.get("Cause") or execution_error(desc["executionArn"]) or desc["status"]
        error = _job_message(error)
    status = "SUCCEEDED" if desc["status"] == "SUCCEEDED" else "FAILED"
    return summarise(record, status=status, input_path=str(path), spec=spec, error=error), record


def _job_message(cause: str) -> str:
    """A Glue .sync failure's Cause is the job run as JSON; its ErrorMessage is what users need."""
    try:
        doc = json.loads(cause)
    except (TypeError, ValueError):
        return cause
    if isinstance(doc, dict) and doc.get("ErrorMessage"):
        return doc["ErrorMessage"]
    return cause


# --- query -----------------------------------------------------------------------------------

def athena_query(sql: str, deadline_s: float = 120) -> list[list[str | None]]:
    """Rows (header first) through the local Athena API in the stack's workgroup."""
    outputs = stack_outputs()
    athena = client("athena")
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=outputs["athena_workgroup"])[
        "QueryExecutionId"]
    end = time.monotonic() + deadline_s
    interval = 0.05
    while True:
        st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if st["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.monotonic() > end:
            raise StepError("athena", f"query {qid} not finished after {deadline_s}s")
        time.sleep(interval)  # poll interval of a deadline-bounded wait
        interval = min(interval * 2, 1.0)
    if st["State"] != "SUCCEEDED":
        raise StepError("athena", f"query {st['State']}: {st.get('StateChangeReason')}")
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        for row in page["ResultSet"]["Rows"]:
            rows.append([d.get("VarCharValue") for d in row["Data"]])
    return rows  # Athena's first row is the header


def deployed_catalog_names() -> tuple[str, str]:
    """The Spark catalog names the deployed jobs use (--glue_catalog, --s3tables_catalog): view SQL for
    S3 Tables datasets names the second one, so a reader's session must call its catalogs the same."""
    args = client("glue").get_job(JobName=stack_outputs()["glue_job_names"]["views"])["Job"]["DefaultArguments"]
    return args["--glue_catalog"], args["--s3tables_catalog"]


class SparkLake:
    """Local Spark whose Glue catalog (the default catalog, so `<db>.<view>` works as typed in the Athena
    console) mirrors the endpoint's Glue Data Catalog: its Iceberg tables and, as Iceberg views, the SPARK
    representation of every Glue view. The S3 Tables catalog name holds the same tables, as the local Glue
    runner registers S3 Tables tables in the Glue Data Catalog."""

    def __init__(self):
        from localcloud.spark_runtime import local_spark_session

        self.glue_catalog, s3tables_catalog = deployed_catalog_names()
        root = Path(tempfile.mkdtemp(prefix="lakepipe-query-"))
        self.catalogs = {self.glue_catalog: str(root / "glue"), s3tables_catalog: str(root / "s3tables")}
        # No table cache: sync() re-points tables in the catalogs' files between queries.
        self.spark = local_spark_session("lakepipe-query", self.catalogs,
                                         {"spark.sql.defaultCatalog": self.glue_catalog,
                                          **{f"spark.sql.catalog.{c}.cache-enabled": "false" for c in self.catalogs}})

    def sync(self) -> None:
        """Pick up what the pipeline changed in the Glue Data Catalog since the last sync."""
        from sqlglot import exp

        from localcloud.glue import catalog_sync

        glue = client("glue")
        catalog_sync.presync(glue, {c: Path(d) for c, d in self.catalogs.items()}, None, progress)
        for page in glue.get_paginator("get_databases").paginate():
            for db in page["DatabaseList"]:
                for tpage in glue.get_paginator("get_tables").paginate(DatabaseName=db["Name"]):
                    for t in tpage["TableList"]:
                        reps = (t.get("ViewDefinition") or {}).get("Representations") or []
                        text = next((r.get("ViewOriginalText") for r in reps if r.get("Dialect") == "SPARK"), None)
                        if t.get("TableType") != "VIRTUAL_VIEW" or not text:
                            continue
                        name = exp.table_(t["Name"], db=db["Name"], catalog=self.glue_catalog, quoted=True)
                        self.spark.sql(f"CREATE OR REPLACE VIEW {name.sql('spark')} AS {text}")

    def query(self, sql: str) -> list[list[str | None]]:
        df = self.spark.sql(sql)
        return [list(df.columns)] + [[None if v is None else str(v) for v in r] for r in df.collect()]

    def stop(self) -> None:
        self.spark.stop()


def spark_query(sql: str) -> list[list[str | None]]:
    lake = SparkLake()
    try:
        lake.sync()
        return lake.query(sql)
    finally:
        lake.stop()


def to_csv(rows: list[list[str | None]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


# --- demo ------------------------------------------------------------------------------------

def demo(sample: Path, dataset: str, deadline_s: float) -> int:
    started = time.monotonic()
    summary, record = run_file(sample, dataset, deadline_s)
    print("== run record ==")
    print(json.dumps(record, indent=2, ensure_ascii=False))
    if summary["status"] != "SUCCEEDED":
        raise StepError("pipeline", summary["error"] or summary["status"])
    print("== views ==")
    for v in summary["views"]:
        print(f"  {v['view']:<45} {v['columns']:>4} columns  ({dataset} split value {v['split_value']!r})")
    if not summary["views"]:
        raise StepError("views", "the run created no views")
    view = summary["views"][0]["view"]
    sql = f"SELECT * FROM {view} ORDER BY 1, 2, 3, 4"
    print(f"== {sql} ==")
    athena_rows = athena_query(sql)
    spark_rows = spark_query(sql)
    print("-- Athena (local: Trino SQL on DuckDB) --")
    print(to_csv(athena_rows), end="")
    print("-- Spark (local: the view's SPARK representation) --")
    print(to_csv(spark_rows), end="")
    if athena_rows != spark_rows:
        raise StepError("compare", f"Athena and Spark disagree on {view}")
    print(f"Athena and Spark agree on {view}: {len(athena_rows) - 1} rows, {len(athena_rows[0])} columns "
          f"(demo {time.monotonic() - started:.1f}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/local_lake.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="upload a CSV and run the pipeline; last stdout line is a JSON summary")
    r.add_argument("input", type=Path)
    r.add_argument("--dataset", default="entities")
    r.add_argument("--deadline", type=float, default=900)
    q = sub.add_parser("query", help="run SQL against the local lake and print CSV, header first")
    q.add_argument("--dialect", choices=["athena", "spark"], required=True)
    q.add_argument("sql")
    d = sub.add_parser("demo", help="run the bundled sample and show one view through Athena and Spark")
    d.add_argument("--input", type=Path, default=REPO / "sample_data" / "entities_sample.csv")
    d.add_argument("--dataset", default="entities")
    d.add_argument("--deadline", type=float, default=900)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "run":
            summary, _ = run_file(args.input, args.dataset, args.deadline)
            print(json.dumps(summary, ensure_ascii=False))
            return 0 if summary["status"] in ("SUCCEEDED", "SKIPPED") else 1
        if args.cmd == "query":
            rows = athena_query(args.sql) if args.dialect == "athena" else spark_query(args.sql)
            sys.stdout.write(to_csv(rows))
            return 0
        return demo(args.input, args.dataset, args.deadline)
    except StepError as e:
        print(f"FAILED at step {e.step}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
