"""Athena executes Trino SQL in DuckDB over Iceberg tables and Glue views registered in the endpoint's Glue."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest

from localcloud.iceberg_fixture import register_in_glue, write_table

from .conftest import start_endpoint, wait_for

pytestmark = pytest.mark.localcloud


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """These tests are about the Trino -> DuckDB translation: views without a definer role, SubObjects or
    grants, so Lake Formation is off here (test_lf_views.py and test_lf_reads.py test it on)."""
    ep, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"), {"LOCALCLOUD_LAKEFORMATION": "off"})
    yield ep
    stop()

PEOPLE = """
SELECT * FROM (VALUES
  (1::BIGINT, 'ann', 1.5::DOUBLE, 'eng', DATE '2024-01-02', 10.25::DECIMAL(10,2)),
  (2, 'bob', 2.0, 'eng', DATE '2024-02-03', 20.50),
  (3, 'cy', NULL, 'ops', DATE '2024-03-04', NULL),
  (4, 'dee', 1e20, 'ops', DATE '2024-04-05', 0.01),
  (5, NULL, 0.0001, 'hr', NULL, 99.99)
) AS t(id, name, score, dept, joined, amount)
"""

PIVOT_ATHENA = ("SELECT dept, max(CASE WHEN name = 'ann' THEN id END) AS ann_id, count(*) AS n "
                "FROM lake.people GROUP BY dept")
PIVOT_SPARK = ("SELECT dept, max(CASE WHEN name = 'ann' THEN id END) AS ann_id, count(*) AS n "
               "FROM spark_catalog.lake.people GROUP BY dept")


@pytest.fixture(scope="module")
def lake(endpoint, tmp_path_factory):
    glue, s3 = endpoint.client("glue"), endpoint.client("s3")
    s3.create_bucket(Bucket="athena-results")
    location = write_table(tmp_path_factory.mktemp("warehouse"), "lake", "people", PEOPLE)
    register_in_glue(glue, "lake", "people", location)
    columns = [{"Name": "dept", "Type": "string"}, {"Name": "ann_id", "Type": "bigint"},
               {"Name": "n", "Type": "bigint"}]
    glue.create_table(DatabaseName="lake", TableInput={
        "Name": "by_dept", "TableType": "VIRTUAL_VIEW",
        "StorageDescriptor": {"Columns": columns},
        "ViewDefinition": {"IsProtected": True, "Definer": "arn:aws:iam::123456789012:role/definer",
                           "Representations": [
                               {"Dialect": "ATHENA", "DialectVersion": "3", "ViewOriginalText": PIVOT_ATHENA},
                               {"Dialect": "SPARK", "DialectVersion": "1.0", "ViewOriginalText": PIVOT_SPARK,
                                "ViewExpandedText": PIVOT_SPARK}]},
    })
    presto = base64.b64encode(json.dumps({"originalSql": "SELECT id, upper(name) AS name FROM people WHERE id < 3",
                                          "catalog": "awsdatacatalog", "schema": "lake"}).encode()).decode()
    glue.create_table(DatabaseName="lake", TableInput={
        "Name": "early", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": f"/* Presto View: {presto} */",
        "ViewExpandedText": "/* Presto View */", "StorageDescriptor": {"Columns": []}})
    return endpoint


def run(ep, sql, **kw):
    athena = ep.client("athena")
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": "lake"},
        ResultConfiguration={"OutputLocation": "s3://athena-results/q/"}, **kw)["QueryExecutionId"]

    def done():
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        return q if q["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    return qid, wait_for(done, 60, f"query {qid}")


def rows(ep, qid, page_size=1000):
    athena = ep.client("athena")
    out, meta, token = [], None, None
    while True:
        kw = {"NextToken": token} if token else {}
        resp = athena.get_query_results(QueryExecutionId=qid, MaxResults=page_size, **kw)
        meta = resp["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        out += [[d.get("VarCharValue") for d in r["Data"]] for r in resp["ResultSet"]["Rows"]]
        token = resp.get("NextToken")
        if not token:
            return out, meta


def test_query_over_iceberg_table(lake):
    qid, q = run(lake, "SELECT id, name, score, joined, amount, id / 2 AS half, people.dept "
                       "FROM awsdatacatalog.lake.people ORDER BY id")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    result, meta = rows(lake, qid)
    assert result == [
        ["id", "name", "score", "joined", "amount", "half", "dept"],
        ["1", "ann", "1.5", "2024-01-02", "10.25", "0", "eng"],
        ["2", "bob", "2.0", "2024-02-03", "20.50", "1", "eng"],
        ["3", "cy", None, "2024-03-04", None, "1", "ops"],
        ["4", "dee", "1.0E20", "2024-04-05", "0.01", "2", "ops"],
        ["5", None, "1.0E-4", None, "99.99", "2", "hr"],
    ]
    assert [(c["Name"], c["Type"]) for c in meta] == [
        ("id", "bigint"), ("name", "varchar"), ("score", "double"), ("joined", "date"), ("amount", "decimal"),
        ("half", "bigint"), ("dept", "varchar")]
    assert (meta[4]["Precision"], meta[4]["Scale"]) == (10, 2)
    assert q["ResultConfiguration"]["OutputLocation"] == f"s3://athena-results/q/{qid}.csv"
    body = lake.client("s3").get_object(Bucket="athena-results", Key=f"q/{qid}.csv")["Body"].read().decode()
    assert body.splitlines()[0] == '"id","name","score","joined","amount","half","dept"'
    assert body.splitlines()[5] == '"5",,"1.0E-4",,"99.99","2","hr"'
    assert list(csv.reader(io.StringIO(body)))[1] == ["1", "ann", "1.5", "2024-01-02", "10.25", "0", "eng"]


def test_pagination_and_unnamed_columns(lake):
    qid, q = run(lake, "SELECT id * 10, count(*) OVER () FROM people ORDER BY 1")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    paged, meta = rows(lake, qid, page_size=2)
    assert paged == [["_col0", "_col1"], ["10", "5"], ["20", "5"], ["30", "5"], ["40", "5"], ["50", "5"]]
    assert [c["Name"] for c in meta] == ["_col0", "_col1"]


def test_two_dialect_glue_view(lake):
    qid, q = run(lake, "SELECT * FROM by_dept ORDER BY dept")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    result, meta = rows(lake, qid)
    assert result == [["dept", "ann_id", "n"], ["eng", "1", "2"], ["hr", None, "1"], ["ops", None, "2"]]
    assert [c["Type"] for c in meta] == ["varchar", "bigint", "bigint"]


def test_presto_encoded_view_joined_with_its_table(lake):
    qid, q = run(lake, "SELECT e.name, p.dept FROM lake.early e JOIN people p ON p.id = e.id ORDER BY e.id")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    assert rows(lake, qid)[0] == [["name", "dept"], ["ANN", "eng"], ["BOB", "eng"]]


def test_view_over_an_s3_tables_catalog_table(lake):
    """A Glue view in the default catalog whose base table is named `"s3tablescatalog/<bucket>".ns.table`,
    as the view job writes it for datasets of target s3tables."""
    glue = lake.client("glue")
    lake.client("s3tables").create_table_bucket(name="lp-local-tables")
    text = 'SELECT dept, count(*) AS n FROM "s3tablescatalog/lp-local-tables"."lake"."people" GROUP BY dept'
    glue.create_table(DatabaseName="lake", TableInput={
        "Name": "s3t_by_dept", "TableType": "VIRTUAL_VIEW",
        "StorageDescriptor": {"Columns": [{"Name": "dept", "Type": "string"}, {"Name": "n", "Type": "bigint"}]},
        "ViewDefinition": {"IsProtected": True, "Definer": "arn:aws:iam::123456789012:role/definer",
                           "Representations": [{"Dialect": "ATHENA", "DialectVersion": "3", "ViewOriginalText": text}]},
    })
    qid, q = run(lake, "SELECT * FROM s3t_by_dept ORDER BY dept")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    assert rows(lake, qid)[0] == [["dept", "n"], ["eng", "2"], ["hr", "1"], ["ops", "2"]]
    qid, q = run(lake, 'SELECT count(*) FROM "s3tablescatalog/no-such-bucket".lake.people')
    assert q["Status"]["State"] == "FAILED"
    assert "CATALOG_NOT_FOUND" in q["Status"]["StateChangeReason"] and "no-such-bucket" in q["Status"]["StateChangeReason"]


@pytest.mark.parametrize("sql, reason", [
    ("SELECT * FROM nope", "TABLE_NOT_FOUND"),
    ("SELECT missing_col FROM people", "COLUMN_NOT_FOUND"),
    ("INSERT INTO people VALUES (9, 'x', 1.0, 'x', NULL, NULL)", "NOT_SUPPORTED"),
    ("SELECT no_such_function(id) FROM people", "no_such_function"),
    ("SELECT FROM WHERE", "SYNTAX_ERROR"),
])
def test_unsupported_or_wrong_sql_fails_clearly(lake, sql, reason):
    qid, q = run(lake, sql)
    assert q["Status"]["State"] == "FAILED"
    assert reason in q["Status"]["StateChangeReason"]
    assert q["Status"]["AthenaError"]["ErrorMessage"] == q["Status"]["StateChangeReason"]
    athena = lake.client("athena")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_query_results(QueryExecutionId=qid)


def test_output_location_from_workgroup_and_required(lake):
    athena = lake.client("athena")
    athena.create_work_group(Name="wg", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://athena-results/wg"}, "EnforceWorkGroupConfiguration": True})
    qid = athena.start_query_execution(QueryString="SELECT 1 AS one", WorkGroup="wg")["QueryExecutionId"]
    wait_for(lambda: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
             == "SUCCEEDED", 30, "the workgroup query")
    body = lake.client("s3").get_object(Bucket="athena-results", Key=f"wg/{qid}.csv")["Body"].read()
    assert body == b'"one"\n"1"\n'
    athena.create_work_group(Name="bare", Configuration={})
    with pytest.raises(athena.exceptions.InvalidRequestException, match="No output location"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="bare")
