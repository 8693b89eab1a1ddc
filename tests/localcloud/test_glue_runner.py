"""The local Glue runner against a moto server: real Spark runs of fixture Glue scripts."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from localcloud.glue import catalog_sync, run_glue_script
from localcloud.glue.conf import parse_conf_argument, repoint
from localcloud.glue.runner import glue_argv
from localcloud.glue.s3sync import s3_uris
from localcloud.net import free_port

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "us-east-1"
DATA, ARTIFACTS, WAREHOUSE = "fixture-raw", "fixture-artifacts", "fixture-warehouse"
GLUE_CONF = (
    "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    " --conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog"
    " --conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog"
    f" --conf spark.sql.catalog.glue_catalog.warehouse=s3://{WAREHOUSE}/iceberg/"
    " --conf spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO"
    " --conf spark.sql.catalog.glue_catalog.glue.skip-name-validation=false"
)


# ---- pure units (no Spark) -------------------------------------------------------------------------

def test_conf_parsing_and_repointing():
    conf = parse_conf_argument(GLUE_CONF + " --conf spark.sql.catalog.mine=org.apache.iceberg.spark.SparkCatalog"
                               " --conf spark.sql.catalog.mine.type=hadoop --conf spark.executor.memory=10g"
                               " --conf spark.sql.catalog.s3t=org.apache.iceberg.spark.SparkCatalog"
                               " --conf spark.sql.catalog.s3t.catalog-impl="
                               "software.amazon.s3tables.iceberg.S3TablesCatalog"
                               " --conf spark.sql.catalog.s3t.warehouse=arn:aws:s3tables:us-east-1:1:bucket/b"
                               " --conf spark.sql.catalog.glue_catalog.default-namespace=db")
    assert conf["spark.sql.catalog.glue_catalog.warehouse"] == f"s3://{WAREHOUSE}/iceberg/"
    parsed = repoint(conf)
    assert {(c.name, c.kind) for c in parsed.catalogs} == {("glue_catalog", "glue"), ("s3t", "s3tables")}
    assert parsed.spark_conf == {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.mine": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.mine.type": "hadoop",
        "spark.sql.catalog.glue_catalog.default-namespace": "db",
    }
    assert "spark.sql.catalog.glue_catalog.io-impl" in parsed.dropped
    assert "spark.executor.memory" in parsed.dropped
    with pytest.raises(ValueError, match="not key=value"):
        parse_conf_argument("a=b --conf oops")


def test_glue_argv_and_uri_scan():
    argv = glue_argv(Path("/x/job.py"), {"--source_uri": "s3://b/k.csv", "--n": "1"}, "job", "jr_1")
    assert argv == ["/x/job.py", "--JOB_ID", "j_job", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "job",
                    "--job-bookmark-option", "job-bookmark-disable", "--source_uri", "s3://b/k.csv", "--n", "1"]
    from awsglue.utils import getResolvedOptions

    assert getResolvedOptions(argv, ["JOB_NAME", "source_uri"])["source_uri"] == "s3://b/k.csv"
    spec = json.dumps({"target": {"location": "s3://lake-bucket/tables/"}, "x": "s3a://bk2/p/k.csv"})
    assert s3_uris([spec, "s3://bk3"]) == [("lake-bucket", "tables/"), ("bk2", "p/k.csv"), ("bk3", "")]


def test_iceberg_to_hive_types():
    t = catalog_sync.iceberg_to_hive_type
    assert [t(x) for x in ("long", "int", "string", "timestamptz", "decimal(10, 2)", "fixed[16]", "uuid")] == [
        "bigint", "int", "string", "timestamp", "decimal(10,2)", "binary", "string"]
    nested = {"type": "struct", "fields": [
        {"id": 1, "name": "a", "required": False, "type": {"type": "list", "element-id": 2, "element": "double",
                                                           "element-required": False}},
        {"id": 3, "name": "m", "required": False, "type": {"type": "map", "key-id": 4, "key": "string",
                                                           "value-id": 5, "value": "date", "value-required": False}}]}
    assert t(nested) == "struct<a:array<double>,m:map<string,date>>"


# ---- real runs ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _client(url: str, service: str):
    return boto3.client(service, region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def world(moto_endpoint, tmp_path_factory):
    s3, glue = _client(moto_endpoint, "s3"), _client(moto_endpoint, "glue")
    for b in (DATA, ARTIFACTS, WAREHOUSE):
        s3.create_bucket(Bucket=b)
    for name in ("glue_ingest_job.py", "glue_readback_job.py", "glue_hang_job.py"):
        s3.upload_file(str(FIXTURES / name), ARTIFACTS, f"scripts/{name}")
    for name in ("glue_entities_1.csv", "glue_entities_2.csv", "glue_entities_bad.csv"):
        s3.upload_file(str(FIXTURES / name), DATA, f"incoming/{name}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(FIXTURES / "glue_fixture_lib" / "__init__.py", "glue_fixture_lib/__init__.py")
    s3.put_object(Bucket=ARTIFACTS, Key="libs/fixture_lib.zip", Body=buf.getvalue())
    glue.create_database(DatabaseInput={"Name": "fixture_db"})  # as Terraform would
    base = tmp_path_factory.mktemp("glue-runner")
    return {"url": moto_endpoint, "s3": s3, "glue": glue, "state": base / "state", "base": base}


def _run(world, script: str, args: dict, *, state: Path | None = None, timeout_s: int = 600, name: str = "run"):
    defaults = {  # the job's DefaultArguments (Terraform); run arguments below override them
        "--conf": GLUE_CONF,
        "--datalake-formats": "iceberg",
        "--extra-py-files": f"s3://{ARTIFACTS}/libs/fixture_lib.zip",
        "--glue_catalog": "glue_catalog",
        "--table": "fixture_db.entities",
        "--TempDir": f"s3://{ARTIFACTS}/temp/",
    }
    log_path = world["base"] / "logs" / f"{name}.log"
    result = run_glue_script(f"s3://{ARTIFACTS}/scripts/{script}", {**defaults, **args}, endpoint_url=world["url"],
                             state_dir=state or world["state"], timeout_s=timeout_s, log_path=log_path,
                             job_name="fixture-job")
    return result, log_path.read_text()


def _ingest_args(csv: str) -> dict:
    return {"--source_uri": f"s3://{DATA}/incoming/{csv}", "--summary_uri": f"s3://{ARTIFACTS}/summaries/latest/",
            "--report_bucket": ARTIFACTS}


def _json_lines(s3, bucket: str, prefix: str) -> list[dict]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    parts = [k for k in keys if k.rsplit("/", 1)[-1].startswith("part-")]
    assert parts, f"no part files under s3://{bucket}/{prefix}: {keys}"
    rows = []
    for k in sorted(parts):
        body = s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode()
        rows += [json.loads(line) for line in body.splitlines() if line.strip()]
    return rows


@pytest.mark.spark
@pytest.mark.timeout(900)
def test_ingest_twice_then_read_back_from_a_fresh_state(world):
    s3, glue = world["s3"], world["glue"]

    first, log1 = _run(world, "glue_ingest_job.py", _ingest_args("glue_entities_1.csv"), name="ingest-1")
    assert first.state == "SUCCEEDED", f"{first.error_message}\n{log1[-4000:]}"
    assert first.error_message is None and first.completed_on >= first.started_on
    t1 = glue.get_table(DatabaseName="fixture_db", Name="entities")["Table"]
    assert t1["TableType"] == "EXTERNAL_TABLE"
    assert t1["Parameters"]["table_type"] == "ICEBERG"
    loc1 = t1["Parameters"]["metadata_location"]
    assert catalog_sync.local_path(loc1).is_file()
    assert [(c["Name"], c["Type"]) for c in t1["StorageDescriptor"]["Columns"]] == [
        ("id", "bigint"), ("name", "string"), ("amount", "double")]
    assert t1["StorageDescriptor"]["Location"].endswith("/fixture_db/entities")

    second, log2 = _run(world, "glue_ingest_job.py", _ingest_args("glue_entities_2.csv"), name="ingest-2")
    assert second.state == "SUCCEEDED", f"{second.error_message}\n{log2[-4000:]}"
    t2 = glue.get_table(DatabaseName="fixture_db", Name="entities")["Table"]
    loc2 = t2["Parameters"]["metadata_location"]
    assert loc2 != loc1 and catalog_sync.local_path(loc2).is_file()
    assert t2["Parameters"]["previous_metadata_location"] == loc1

    # What Spark wrote to s3:// reached the endpoint (overwritten by the second run) ...
    assert _json_lines(s3, ARTIFACTS, "summaries/latest/") == [
        {"run_id": second.job_run_id, "rows_read": 2, "rows_total": 4}]
    # ... and so did what boto3 wrote inside the job, with Glue's argv.
    report = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=f"reports/{second.job_run_id}.json")["Body"].read())
    assert report["job"] == "fixture-job" and report["rows_total"] == 4
    assert report["argv"][:4] == ["--JOB_ID", "j_fixture-job", "--JOB_RUN_ID", second.job_run_id]
    assert "--source_uri" in report["argv"]

    # A fresh state dir sees the table through the Glue Data Catalog alone (Glue is the source of truth).
    third, log3 = _run(world, "glue_readback_job.py", {"--out_uri": f"s3://{ARTIFACTS}/readback/"},
                       state=world["base"] / "fresh-state", name="readback")
    assert third.state == "SUCCEEDED", f"{third.error_message}\n{log3[-4000:]}"
    assert _json_lines(s3, ARTIFACTS, "readback/") == [
        {"id": 1, "name": "alpha", "amount": 1.5},
        {"id": 2, "name": "beta", "amount": 20.0},  # updated by the MERGE, name normalized by the zip's UDF
        {"id": 3, "name": "gamma", "amount": 3.25},
        {"id": 4, "name": "delta", "amount": 4.0},
    ]
    # Reading changed nothing in Glue.
    assert glue.get_table(DatabaseName="fixture_db", Name="entities")["Table"]["Parameters"]["metadata_location"] \
        == loc2


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_failing_script_reports_the_python_error(world):
    glue = world["glue"]
    before = None
    try:
        before = glue.get_table(DatabaseName="fixture_db", Name="entities")["Table"]["Parameters"]
    except glue.exceptions.EntityNotFoundException:
        pass
    result, log = _run(world, "glue_ingest_job.py", _ingest_args("glue_entities_bad.csv"), name="bad")
    assert result.state == "FAILED"
    assert result.error_message == (
        f"ValueError: file s3://{DATA}/incoming/glue_entities_bad.csv is missing columns ['amount']")
    assert "Traceback" in log and "ValueError" in log
    if before is not None:  # the failed run committed nothing
        after = glue.get_table(DatabaseName="fixture_db", Name="entities")["Table"]["Parameters"]
        assert after["metadata_location"] == before["metadata_location"]


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_missing_script_and_timeout(world):
    missing, _ = _run(world, "no_such_job.py", {}, name="missing")
    assert missing.state == "FAILED"
    assert f"s3://{ARTIFACTS}/scripts/no_such_job.py" in missing.error_message

    hung, log = _run(world, "glue_hang_job.py", {}, timeout_s=15, name="hang")
    assert hung.state == "TIMEOUT", f"{hung.error_message}\n{log[-3000:]}"
    assert "timeout of 15 seconds" in hung.error_message
    assert 15 <= (hung.completed_on - hung.started_on).total_seconds() < 15 + 30
