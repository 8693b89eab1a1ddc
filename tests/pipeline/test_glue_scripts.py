"""The real job SCRIPTS, unchanged, through the local Glue runner against a moto server.

The scripts, lakepipe (from build/glue/lakepipe.zip via --extra-py-files) and the arguments are
exactly what Terraform deploys: --conf with a GlueCatalog-backed Iceberg catalog, s3:// URIs, boto3
reports. This proves the entry points work end to end, not only the library functions.
"""

import json
from pathlib import Path

import boto3
import pytest
import sqlglot

from lakepipe.spec import load_spec_file
from lakepipe.views import P_MANAGED_BY
from tools.glue_job_args import default_arguments

from .conftest import REGION, free_port

ROOT = Path(__file__).resolve().parents[2]
GLUE_ZIP = ROOT / "build" / "glue" / "lakepipe.zip"
RAW, ARTIFACTS, WAREHOUSE = "lp-raw", "lp-artifacts", "lp-warehouse"
DEFINER = "arn:aws:iam::123456789012:role/lakepipe-view-definer"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from moto.server import ThreadedMotoServer

    if not GLUE_ZIP.is_file():
        pytest.fail(f"{GLUE_ZIP} is missing: run `make package` (make test-spark does)")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    kw = {"region_name": REGION, "endpoint_url": url, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    s3, glue = boto3.client("s3", **kw), boto3.client("glue", **kw)
    for b in (RAW, ARTIFACTS, WAREHOUSE):
        s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})  # as Terraform does
    s3.upload_file(str(ROOT / "glue_jobs/ingest_job.py"), ARTIFACTS, "glue/ingest_job.py")
    s3.upload_file(str(ROOT / "glue_jobs/view_job.py"), ARTIFACTS, "glue/view_job.py")
    s3.upload_file(str(GLUE_ZIP), ARTIFACTS, "glue/lakepipe.zip")
    s3.upload_file(str(ROOT / "sample_data/entities_sample.csv"), RAW, "incoming/entities/entities_sample.csv")
    s3.upload_file(str(ROOT / "tests/pipeline/data/missing_column.csv"), RAW, "incoming/entities/missing_column.csv")
    s3.upload_file(str(ROOT / "tests/pipeline/data/bad_rows.csv"), RAW, "incoming/entities/bad_rows.csv")
    # moto's backends are process-wide, shared by every in-process server: a second module using this
    # fixture (test_glue_scripts_s3tables imports it) finds the database already there.
    for db in ("lake", "lake_views"):  # the table's and the views' databases, as Terraform makes them
        try:
            glue.create_database(DatabaseInput={"Name": db})
        except glue.exceptions.AlreadyExistsException:
            pass
    base = tmp_path_factory.mktemp("glue-scripts")
    yield {"url": url, "s3": s3, "glue": glue, "state": base / "state", "logs": base / "logs"}
    server.stop()


def run(world, script, args, name):
    from localcloud.glue.runner import run_glue_script

    defaults = default_arguments(raw_bucket=RAW, artifacts_bucket=ARTIFACTS, warehouse_bucket=WAREHOUSE,
                                 definer_role_arn=DEFINER)
    log = world["logs"] / f"{name}.log"
    result = run_glue_script(f"s3://{ARTIFACTS}/glue/{script}", {**defaults, **args}, endpoint_url=world["url"],
                             state_dir=world["state"], timeout_s=900, log_path=log, job_name=name, region=REGION)
    return result, log.read_text()


def source(world, key, version_id=None):
    """The ingest job's per-run source arguments as the state machine passes them (lakepipe/events.py)."""
    head = world["s3"].head_object(Bucket=RAW, Key=key, **({"VersionId": version_id} if version_id else {}))
    return {"--source_uri": f"s3://{RAW}/{key}", "--source_version": head["VersionId"],
            "--source_etag": head["ETag"].strip('"')}


def _table_rows(world, entity1_values):
    """(entity1, key, value, lakepipe_source_file) of lake.entities as Glue registers it: DuckDB's
    iceberg_scan over the metadata file the run wrote (locally a file: path)."""
    import importlib
    from urllib.parse import urlparse

    import duckdb

    loc = world["glue"].get_table(DatabaseName="lake", Name="entities")["Table"]["Parameters"]["metadata_location"]
    con = duckdb.connect(config={"extension_directory": str(world["logs"].parent / "duckdb_extensions"),
                                 "autoinstall_known_extensions": False})
    for package, name in (("duckdb_extension_avro", "avro"), ("duckdb_extension_iceberg", "iceberg")):
        ext = Path(importlib.import_module(package).__file__).parent / "extensions" / f"v{duckdb.__version__}"
        con.execute(f"INSTALL '{ext / f'{name}.duckdb_extension'}'")  # offline, from the PyPI package
        con.execute(f"LOAD {name}")
    path = urlparse(loc).path.replace("'", "''")
    marks = ", ".join("?" for _ in entity1_values)
    return con.execute(f"SELECT entity1, key, value, lakepipe_source_file FROM iceberg_scan('{path}') "
                       f"WHERE entity1 IN ({marks})", sorted(entity1_values)).fetchall()


def get_json(world, key):
    return json.loads(world["s3"].get_object(Bucket=ARTIFACTS, Key=key)["Body"].read())


def test_ingest_and_view_scripts(world):
    spec = load_spec_file(ROOT / "datasets/entities.json")
    spec_json = json.dumps(spec.to_dict())

    ok, log = run(world, "ingest_job.py", {
        "--dataset_spec": spec_json, **source(world, "incoming/entities/entities_sample.csv"), "--run_id": "entities-run1"}, "ingest-1")
    assert ok.state == "SUCCEEDED", (ok.error_message, log[-3000:])
    report = get_json(world, "runs/entities/entities-run1/ingest.json")
    assert report["table"] == "lake.entities" and report["rows_loaded"] == 480 and report["rows_rejected"] == 0
    table = world["glue"].get_table(DatabaseName="lake", Name="entities")["Table"]
    assert table["Parameters"]["table_type"].upper() == "ICEBERG"

    bad, log = run(world, "ingest_job.py", {
        "--dataset_spec": spec_json, **source(world, "incoming/entities/bad_rows.csv"), "--run_id": "entities-run2"}, "ingest-2")
    assert bad.state == "SUCCEEDED", (bad.error_message, log[-3000:])
    report = get_json(world, "runs/entities/entities-run2/ingest.json")
    assert report["rows_rejected"] == 8 and report["rejects_location"] == f"s3://{RAW}/rejects/entities/entities-run2/"
    keys = [o["Key"] for o in world["s3"].list_objects_v2(Bucket=RAW, Prefix="rejects/entities/entities-run2/")["Contents"]]
    parts = [k for k in keys if k.endswith(".json")]
    assert parts
    lines = [json.loads(x) for k in parts for x in world["s3"].get_object(Bucket=RAW, Key=k)["Body"].read().decode().splitlines()]
    assert sorted(r["line"] for r in lines) == [2, 3, 5, 6, 7, 9, 10, 12]
    after_bad = world["glue"].get_table(DatabaseName="lake", Name="entities")["Table"]["Parameters"]["metadata_location"]

    failed, log = run(world, "ingest_job.py", {
        "--dataset_spec": spec_json, **source(world, "incoming/entities/missing_column.csv"), "--run_id": "entities-run3"}, "ingest-3")
    assert failed.state == "FAILED"
    assert "missing_column.csv" in failed.error_message and "['entity3', 'entity4']" in failed.error_message
    assert world["glue"].get_table(DatabaseName="lake", Name="entities")["Table"]["Parameters"]["metadata_location"] == after_bad

    views, log = run(world, "view_job.py", {"--dataset_spec": spec_json, "--run_id": "entities-run1"}, "views-1")
    assert views.state == "SUCCEEDED", (views.error_message, log[-3000:])
    vreport = get_json(world, "runs/entities/entities-run1/views.json")
    # the four split values of the sample (the bad-rows file only adds rows to ACME and Globex)
    assert {v["split_value"] for v in vreport["views"]} == {"ACME", "Globex", "Initech", "Umbrella Corp"}
    assert all(v["action"] == "created" for v in vreport["views"])
    acme = world["glue"].get_table(DatabaseName="lake_views", Name="entity_view_acme")["Table"]
    assert acme["Parameters"][P_MANAGED_BY] == "entities"
    reps = {r["Dialect"]: r for r in acme["ViewDefinition"]["Representations"]}
    assert "ViewExpandedText" not in reps["ATHENA"]
    sqlglot.parse_one(reps["ATHENA"]["ViewOriginalText"], read="trino")
    assert [c["Name"] for c in acme["StorageDescriptor"]["Columns"]] == [
        "entity1", "entity2", "entity3", "entity4", "cost", "headcount", "margin", "revenue"]

    again, log = run(world, "view_job.py", {"--dataset_spec": spec_json, "--run_id": "entities-run4"}, "views-2")
    assert again.state == "SUCCEEDED", (again.error_message, log[-3000:])
    assert {v["action"] for v in get_json(world, "runs/entities/entities-run4/views.json")["views"]} == {"unchanged"}


def test_ingest_reads_the_announced_version_not_the_latest(world):
    """Two fast uploads to one key: the first run must load the first version (pinned by a staged copy)."""
    spec = load_spec_file(ROOT / "datasets/entities.json")
    s3, key = world["s3"], "incoming/entities/fast.csv"
    header = "entity1,entity2,entity3,entity4,key,value\n"
    v1 = s3.put_object(Bucket=RAW, Key=key, Body=(header + "Pinned,a,b,c,k1,first\nPinned,a,b,c,k2,first\n").encode())
    s3.put_object(Bucket=RAW, Key=key, Body=(header + "Pinned,a,b,c,k1,second\nLatest,a,b,c,k3,second\n").encode())

    order = {"--source_event_time": "2026-11-30T12:00:00.125Z", "--source_sequencer": "0A"}  # as the state machine
    ok, log = run(world, "ingest_job.py", {"--dataset_spec": json.dumps(spec.to_dict()),
                                           **source(world, key, v1["VersionId"]), **order, "--run_id": "entities-fast1"},
                  "ingest-fast")
    assert ok.state == "SUCCEEDED", (ok.error_message, log[-3000:])
    report = get_json(world, "runs/entities/entities-fast1/ingest.json")
    assert report["source_uri"] == f"s3://{RAW}/{key}" and report["source_version"] == v1["VersionId"]
    assert report["rows_read"] == 2 and report["rows_loaded"] == 2 and report["rows_changed"] == 2
    # the ledger beside the table, registered in the Glue Data Catalog like the table (so Athena reads it)
    ledger_table = world["glue"].get_table(DatabaseName="lake", Name="entities_ledger")["Table"]
    assert ledger_table["Parameters"]["table_type"].upper() == "ICEBERG"

    rows = _table_rows(world, {"Pinned", "Latest"})
    assert sorted(r[:3] for r in rows) == [("Pinned", "k1", "first"), ("Pinned", "k2", "first")]
    assert {r[3] for r in rows} == {f"s3://{RAW}/{key}"}  # lakepipe_source_file: the original URI
    staging = s3.list_object_versions(Bucket=RAW, Prefix="staging/")
    assert staging.get("Versions", []) == [] and staging.get("DeleteMarkers", []) == []

    before = world["glue"].get_table(DatabaseName="lake", Name="entities")["Table"]["Parameters"]["metadata_location"]
    # The same version again (a replay): the ledger lists it, so the run loads nothing and succeeds.
    again, log = run(world, "ingest_job.py", {"--dataset_spec": json.dumps(spec.to_dict()),
                                              **source(world, key, v1["VersionId"]), "--run_id": "entities-fast3"},
                     "ingest-again")
    assert again.state == "SUCCEEDED", (again.error_message, log[-3000:])
    report = get_json(world, "runs/entities/entities-fast3/ingest.json")
    assert report["already_loaded"]["run_id"] == "entities-fast1" and report["rows_loaded"] == 0

    # The announced version vanished before the run: a clear failure, nothing loaded.
    v3 = s3.put_object(Bucket=RAW, Key=key, Body=(header + "Gone,a,b,c,k1,third\n").encode())
    s3.delete_object(Bucket=RAW, Key=key, VersionId=v3["VersionId"])
    gone, log = run(world, "ingest_job.py", {"--dataset_spec": json.dumps(spec.to_dict()),
                                             "--source_uri": f"s3://{RAW}/{key}", "--source_version": v3["VersionId"],
                                             "--source_etag": v3["ETag"].strip('"'), "--run_id": "entities-fast2"},
                    "ingest-gone")
    assert gone.state == "FAILED"
    assert gone.error_message == (f"StagingError: s3://{RAW}/{key}: version {v3['VersionId']} no longer exists; "
                                  "nothing was loaded")
    after = world["glue"].get_table(DatabaseName="lake", Name="entities")["Table"]["Parameters"]["metadata_location"]
    assert after == before
