"""The view logic: local Spark + Iceberg for the data, a moto server for the Glue Data Catalog.

Every view's two stored representations are executed: the SPARK text in Spark against the
table, the ATHENA (Trino) text translated by sqlglot to DuckDB over the same rows; the results
must be identical and match the table's narrow rows.
"""

import json
from pathlib import Path

import pytest

from lakepipe.ingest import run_ingest
from lakepipe.naming import short_hash
from lakepipe.spec import load_spec_file, parse_spec
from lakepipe.views import P_COLUMN_MAP, P_MANAGED_BY, P_SPLIT_VALUE, CatalogTarget, ViewJobError, run_views

from .conftest import CATALOG
from .helpers import (
    duckdb_with_table,
    run_spark_view_sql,
    run_trino_in_duckdb,
    stored_representations,
    write_csv,
)

ROOT = Path(__file__).resolve().parents[2]
TARGET = CatalogTarget("aws", "us-east-1", "123456789012")
DEFINER = "arn:aws:iam::123456789012:role/lakepipe-view-definer"

HOSTILE_SPLITS = ["O'Brien", 'dq"x"', "a`b`", "select", "ABC", "abc", "Ünïcödé 東京", "s" * 300, " lead", "back\\slash\\",
                  "'; DROP TABLE lake.hostile; --"]
HOSTILE_KEYS = ["key", "Key", "KEY", "entity1", "from", "it's", "a`b", 'q"q', "naïve", "東京", "k" * 400, "1st", "%s",
                "x\\y", "*/ select 1 /*"]


def ingest(spark, spec, path, run_id, tmp_path):
    return run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)


def views(spark, spec, glue):
    return run_views(spark, spec, glue=glue, target=TARGET, definer_role_arn=DEFINER, glue_catalog=CATALOG)


def assert_representations_agree(spark, glue, spec, report, *, table=None, athena_catalog=None, base_arn=None):
    table = table or f"{CATALOG}.{spec.database}.{spec.table}"
    con = duckdb_with_table(spark, table, spec, athena_catalog)
    narrow = {}
    for r in spark.table(table).select(*spec.data_columns).collect():
        narrow[tuple(r[: 1 + len(spec.id_columns)]) + (r[spec.key_column],)] = r[spec.value_column]
    for v in report["views"]:
        db, name = v["view"].split(".")
        reps = stored_representations(glue, db, name)
        assert set(reps) == {"SPARK", "ATHENA"}
        spark_rows = run_spark_view_sql(spark, CATALOG, reps["SPARK"])
        trino_rows = run_trino_in_duckdb(con, reps["ATHENA"])
        assert spark_rows == trino_rows, name
        assert spark_rows, name
        t = glue.get_table(DatabaseName=db, Name=name)["Table"]
        cols = [c["Name"] for c in t["StorageDescriptor"]["Columns"]]
        assert len(cols) == v["columns"] and len({c.lower() for c in cols}) == len(cols)
        cmap = json.loads(t["Parameters"][P_COLUMN_MAP])
        fixed = 1 + len(spec.id_columns)
        # every pivoted cell equals the narrow table's value for that key
        for row in spark_rows:
            ids = tuple(row[:fixed])
            assert ids[0] == t["Parameters"][P_SPLIT_VALUE]
            for col, cell in zip(cols[fixed:], row[fixed:]):
                assert cell == narrow.get(ids + (cmap[col],)), (name, col)
        assert t["ViewDefinition"]["Definer"] == DEFINER and t["ViewDefinition"]["IsProtected"] is True
        assert t["ViewDefinition"]["SubObjects"] == [base_arn or TARGET.table_arn(spec.database, spec.table)]


@pytest.fixture(scope="module")
def hostile_spec():
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "name": "hostile", "table": "hostile", "view_prefix": "hostile_view_"})


def test_hostile_values_views_lifecycle(spark, glue, hostile_spec, tmp_path):
    spec = hostile_spec
    rows = []
    for i, s in enumerate(HOSTILE_SPLITS):
        for j, k in enumerate(HOSTILE_KEYS):
            rows.append([s, f"id{i % 2}", "2026", "Q1", k, f"v-{i}-{j}-'\"`"])
            rows.append([s, "id9", "", "", k, None if j % 3 == 0 else f"w{j}"])
    path = write_csv(tmp_path / "hostile.csv", list(spec.data_columns), rows)
    res = ingest(spark, spec, path, "h1", tmp_path)
    assert res.rows_rejected == 0 and res.rows_loaded == len(rows)

    first = views(spark, spec, glue)
    assert [v["action"] for v in first["views"]] == ["created"] * len(HOSTILE_SPLITS)
    assert first["dropped"] == []
    names = [v["view"] for v in first["views"]]
    assert len(set(names)) == len(HOSTILE_SPLITS)
    by_split = {v["split_value"]: v["view"].split(".")[1] for v in first["views"]}
    assert by_split["abc"] == "hostile_view_abc"
    assert by_split["ABC"] == f"hostile_view_abc_{short_hash('ABC')}"
    assert by_split["select"] == "hostile_view_select"
    assert all(len(n) <= 128 for n in by_split.values())
    assert_representations_agree(spark, glue, spec, first)

    # a re-run changes nothing
    again = views(spark, spec, glue)
    assert [v["action"] for v in again["views"]] == ["unchanged"] * len(HOSTILE_SPLITS)

    # a new key for one split value updates exactly that view
    extra = write_csv(tmp_path / "extra.csv", list(spec.data_columns), [["select", "id0", "2026", "Q1", "new key", "n"]])
    ingest(spark, spec, extra, "h2", tmp_path)
    third = views(spark, spec, glue)
    actions = {v["split_value"]: v["action"] for v in third["views"]}
    assert actions.pop("select") == "updated" and set(actions.values()) == {"unchanged"}
    assert_representations_agree(spark, glue, spec, third)

    # a split value that disappears loses its view; tables we do not own are never touched
    vdb = spec.views_database
    glue.create_table(DatabaseName=vdb, TableInput={"Name": "hostile_view_unowned", "TableType": "VIRTUAL_VIEW",
                                                        "Parameters": {"owner": "someone else"}})
    spark.sql(f"DELETE FROM {CATALOG}.lake.hostile WHERE entity1 = :v", args={"v": "O'Brien"})
    fourth = views(spark, spec, glue)
    assert fourth["dropped"] == [f"{vdb}." + by_split["O'Brien"]]
    assert glue.get_table(DatabaseName=vdb, Name="hostile_view_unowned")["Table"]["Parameters"] == {"owner": "someone else"}

    # a name clash with a table we do not own is reported, and that table is left as it was
    glue.delete_table(DatabaseName=vdb, Name=by_split["select"])
    glue.create_table(DatabaseName=vdb, TableInput={"Name": by_split["select"], "TableType": "EXTERNAL_TABLE",
                                                        "Parameters": {"made_by": "hand"}})
    fifth = views(spark, spec, glue)
    assert fifth["conflicts"] == [f"{vdb}.{by_split['select']}"]
    assert glue.get_table(DatabaseName=vdb, Name=by_split["select"])["Table"]["Parameters"] == {"made_by": "hand"}
    managed = [t for t in glue.get_tables(DatabaseName=vdb)["TableList"]
               if (t.get("Parameters") or {}).get(P_MANAGED_BY) == "hostile"]
    assert len(managed) == len(HOSTILE_SPLITS) - 2


def test_regulatory_two_thousand_keys_in_one_split_value(spark, glue, tmp_path):
    spec = load_spec_file(ROOT / "datasets/regulatory.json")
    keys = [f"RCON{i:04d}" for i in range(1990)] + ["rcon0001", "Rcon0002", "seriesid", "aod", "value", "key",
                                                    "RSSDID", "submissionts", "select", "x" * 200]
    assert len(set(keys)) == 2000
    rows = []
    for rssd in ("480228", "852218"):
        for n, k in enumerate(keys):
            rows.append(["FFIEC031", "2026-03-31", rssd, "2026-04-30T12:00:00Z", k, str(n)])
    for k in keys[:5]:
        rows.append(["FRY9C", "2026-03-31", "1073757", "2026-04-30T12:00:00Z", k, "1"])
    path = write_csv(tmp_path / "regulatory.csv", list(spec.data_columns), rows)
    res = ingest(spark, spec, path, "r1", tmp_path)
    assert res.rows_loaded == len(rows)
    report = views(spark, spec, glue)
    cols = {v["split_value"]: v["columns"] for v in report["views"]}
    assert cols == {"FFIEC031": 2004, "FRY9C": 9}
    db = spec.views_database
    assert {v["view"] for v in report["views"]} == {f"{db}.report_view_ffiec031", f"{db}.report_view_fry9c"}
    assert_representations_agree(spark, glue, spec, report)


S3T_CATALOG = "s3tables_catalog"
S3T_BUCKET = "lp-test-tables"


@pytest.fixture(scope="module")
def s3tables_catalog(spark, tmp_path_factory):
    """A second catalog, as the jobs' --conf configures one for S3 Tables."""
    from localcloud.spark_runtime import catalog_conf

    for k, v in catalog_conf(S3T_CATALOG, tmp_path_factory.mktemp("s3tables-catalog")).items():
        spark.conf.set(k, v)
    return S3T_CATALOG


def test_s3tables_dataset_gets_views_naming_its_table_per_engine(spark, glue, s3tables_catalog, tmp_path):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    spec = parse_spec({**raw, "name": "entities_s3t", "target": "s3tables", "database": "lake_ns", "view_database": None,
                       "view_prefix": "s3t_view_"})
    glue.create_database(DatabaseInput={"Name": "lake_ns"})  # the views' database (Terraform makes it)
    rows = [[s, f"id{i}", "2026", "Q1", k, f"{s}-{i}-{k}"] for s in ("A", "O'Brien") for i in range(3)
            for k in ("k1", "K1", "select")]
    path = write_csv(tmp_path / "s3t.csv", list(spec.data_columns), rows)
    res = run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id="s1",
                     rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG,
                     s3tables_catalog=s3tables_catalog)
    assert res.rows_loaded == len(rows)
    # the rows are in the S3 Tables catalog, not in the Glue one
    assert spark.table(f"{s3tables_catalog}.lake_ns.entities").count() == len(rows)
    assert not spark.catalog.tableExists(f"{CATALOG}.lake_ns.entities")

    with pytest.raises(ViewJobError, match="--s3tables_table_bucket"):
        run_views(spark, spec, glue=glue, target=TARGET, definer_role_arn=DEFINER, glue_catalog=CATALOG,
                  s3tables_catalog=s3tables_catalog)
    assert glue.get_tables(DatabaseName="lake_ns")["TableList"] == []

    report = run_views(spark, spec, glue=glue, target=TARGET, definer_role_arn=DEFINER, glue_catalog=CATALOG,
                       s3tables_catalog=s3tables_catalog, s3tables_table_bucket=S3T_BUCKET)
    assert {v["view"]: v["action"] for v in report["views"]} == {
        "lake_ns.s3t_view_a": "created", "lake_ns.s3t_view_o_brien": "created"}
    arn = f"arn:aws:glue:us-east-1:123456789012:table/s3tablescatalog/{S3T_BUCKET}/lake_ns/entities"
    reps = stored_representations(glue, "lake_ns", "s3t_view_a")
    assert f"FROM `{S3T_CATALOG}`.`lake_ns`.`entities`" in reps["SPARK"]
    assert f'FROM "s3tablescatalog/{S3T_BUCKET}"."lake_ns"."entities"' in reps["ATHENA"]
    assert_representations_agree(spark, glue, spec, report, table=f"{s3tables_catalog}.lake_ns.entities",
                                 athena_catalog=f"s3tablescatalog/{S3T_BUCKET}", base_arn=arn)
    again = run_views(spark, spec, glue=glue, target=TARGET, definer_role_arn=DEFINER, glue_catalog=CATALOG,
                      s3tables_catalog=s3tables_catalog, s3tables_table_bucket=S3T_BUCKET)
    assert [v["action"] for v in again["views"]] == ["unchanged", "unchanged"]


def test_a_view_job_that_read_an_older_table_state_never_replaces_a_newer_view(spark, glue, tmp_path, monkeypatch):
    """Overlapping executions: the view job of an earlier load may finish last. It built its views from an
    older snapshot (fewer keys), and must leave the newer views as they are."""
    import lakepipe.views as views_module

    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    spec = parse_spec({**raw, "name": "ordered", "table": "ordered", "view_prefix": "ordered_view_"})
    cols = list(spec.data_columns)
    ingest(spark, spec, write_csv(tmp_path / "a.csv", cols, [["X", "i", "", "", "k1", "1"]]), "o1", tmp_path)
    table = f"{CATALOG}.{spec.database}.{spec.table}"
    older = views_module.table_state(spark, table)
    first = views(spark, spec, glue)
    assert first["table_sequence_number"] == older[1] and older[1] >= 1

    ingest(spark, spec, write_csv(tmp_path / "b.csv", cols, [["X", "i", "", "", "k2", "2"]]), "o2", tmp_path)
    newer = views(spark, spec, glue)
    assert newer["table_sequence_number"] > older[1]
    assert [v["action"] for v in newer["views"]] == ["updated"]
    name = newer["views"][0]["view"].split(".")[1]

    def columns() -> list[str]:
        t = glue.get_table(DatabaseName=spec.views_database, Name=name)["Table"]
        return [c["Name"] for c in t["StorageDescriptor"]["Columns"]]

    assert "k2" in columns()
    monkeypatch.setattr(views_module, "table_state", lambda _spark, _table: older)
    late = views(spark, spec, glue)
    assert [v["action"] for v in late["views"]] == ["superseded"]
    assert "k2" in columns()
