"""Both job scripts for a dataset of target s3tables, through the local Glue runner.

The --conf carries a second Iceberg catalog pointed at the federated S3 Tables catalog, as
modules/glue_jobs renders it, and the view job gets --s3tables_table_bucket. The views land in a
default-catalog Glue database and name the table per engine (see lakepipe/viewsql.py).
"""

import json
from pathlib import Path

import sqlglot

from lakepipe.spec import load_spec_file, parse_spec
from tools.glue_job_args import spark_conf

from .test_glue_scripts import WAREHOUSE, get_json, run, source, world  # noqa: F401 - world is a fixture

ROOT = Path(__file__).resolve().parents[2]
TABLE_BUCKET = "lp-tables"
S3T_CONF = spark_conf(WAREHOUSE, table_bucket=TABLE_BUCKET)  # the second catalog, as modules/glue_jobs renders it


def test_s3tables_dataset_through_both_scripts(world):  # noqa: F811 - the fixture imported above
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    spec = parse_spec({**raw, "name": "entities_s3t", "target": "s3tables", "database": "scripts_ns",
                       "view_database": None, "view_prefix": "s3t_view_"})
    spec_json = json.dumps(spec.to_dict())
    world["glue"].create_database(DatabaseInput={"Name": "scripts_ns"})  # the views' database, as Terraform makes it

    ok, log = run(world, "ingest_job.py", {
        "--conf": S3T_CONF, "--dataset_spec": spec_json, **source(world, "incoming/entities/entities_sample.csv"),
        "--run_id": "s3t-run1"}, "s3t-ingest")
    assert ok.state == "SUCCEEDED", (ok.error_message, log[-3000:])
    report = get_json(world, "runs/entities_s3t/s3t-run1/ingest.json")
    assert report["table"] == "scripts_ns.entities" and report["rows_loaded"] == 480
    assert "catalog s3tables_catalog" in log  # the S3 Tables catalog was re-pointed, not ignored

    views, log = run(world, "view_job.py", {
        "--conf": S3T_CONF, "--dataset_spec": spec_json, "--run_id": "s3t-run1",
        "--s3tables_table_bucket": TABLE_BUCKET}, "s3t-views")
    assert views.state == "SUCCEEDED", (views.error_message, log[-3000:])
    vreport = get_json(world, "runs/entities_s3t/s3t-run1/views.json")
    assert {v["view"] for v in vreport["views"]} == {
        "scripts_ns.s3t_view_acme", "scripts_ns.s3t_view_globex", "scripts_ns.s3t_view_initech", "scripts_ns.s3t_view_umbrella_corp"}
    acme = world["glue"].get_table(DatabaseName="scripts_ns", Name="s3t_view_acme")["Table"]
    assert acme["ViewDefinition"]["SubObjects"] == [
        f"arn:aws:glue:us-east-1:123456789012:table/s3tablescatalog/{TABLE_BUCKET}/scripts_ns/entities"]
    reps = {r["Dialect"]: r["ViewOriginalText"] for r in acme["ViewDefinition"]["Representations"]}
    athena_tables = [t.sql("trino") for t in sqlglot.parse_one(reps["ATHENA"], read="trino").find_all(sqlglot.exp.Table)]
    assert athena_tables == [f'"s3tablescatalog/{TABLE_BUCKET}"."scripts_ns"."entities"']
    assert "FROM `s3tables_catalog`.`scripts_ns`.`entities`" in reps["SPARK"]

    # without the table bucket the view job fails clearly and creates nothing more
    failed, log = run(world, "view_job.py", {
        "--conf": S3T_CONF, "--dataset_spec": json.dumps({**spec.to_dict(), "view_prefix": "other_"}),
        "--run_id": "s3t-run2"}, "s3t-views-no-bucket")
    assert failed.state == "FAILED" and "--s3tables_table_bucket" in failed.error_message
    names = [t["Name"] for t in world["glue"].get_tables(DatabaseName="scripts_ns")["TableList"]]
    assert not [n for n in names if n.startswith("other_")]
