"""Lake Formation data cells filters on the local endpoint: the APIs, the grants on a filter and the local
Athena reading a table through them (row filter, excluded columns, several filters as their union).

lake.people holds (1, ann, eng), (2, bob, eng), (3, cy, ops), (4, o'brien, x' OR 'a'='a). An analyst holds
SELECT on the filter `eng` (dept = 'eng', column `name` excluded) and on the view of eng only.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.iceberg_fixture import write_table
from tests.localcloud.conftest import REGION, start_endpoint
from tests.localcloud.test_lf_support import (
    ACCOUNT,
    build_lake,
    final_status,
    grant,
    revoke,
    run_query,
    view_input,
)

DENIED = "Insufficient Lake Formation permission(s) on"
PEOPLE = ("SELECT * FROM (VALUES (1, 'ann', 'eng'), (2, 'bob', 'eng'), (3, 'cy', 'ops'), "
          "(4, 'o''brien', 'x'' OR ''a''=''a')) AS t(id, name, dept)")
HOSTILE = "x' OR 'a'='a"


def table_data(name: str, row: str | None, excluded: list[str] | None = None, **extra) -> dict:
    data = {"TableCatalogId": ACCOUNT, "DatabaseName": "lake", "TableName": "people", "Name": name,
            "RowFilter": {"FilterExpression": row} if row is not None else {"AllRowsWildcard": {}},
            "ColumnWildcard": {"ExcludedColumnNames": excluded or []}}
    data.update(extra)
    return data


def dept_view(dept: str, definer: str) -> dict:
    sql = f"SELECT dept, count(*) AS n FROM lake.people WHERE dept = '{dept}' GROUP BY dept"
    spark = f"SELECT dept, count(*) AS n FROM glue_catalog.lake.people WHERE dept = '{dept}' GROUP BY dept"
    return view_input(f"dept_{dept}", definer, athena=sql, spark=spark)


def role_client(ep, name: str, service: str, actions: list[str]):
    iam = ep.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::lf-results", "arn:aws:s3:::lf-results/*"]}]}))
    creds = ep.client("sts").assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    client = boto3.client(service, region_name=REGION, endpoint_url=ep.url, aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                          config=Config(retries={"max_attempts": 1}))
    return arn, client


ATHENA_ACTIONS = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                  "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "lakeformation:GetDataAccess"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    ep, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    tmp = tmp_path_factory.mktemp("lake")
    roles = build_lake(ep, tmp)
    glue, lf = ep.client("glue"), ep.client("lakeformation")
    # lake.people with the hostile row: a new snapshot of the same table
    metadata = write_table(tmp / "iceberg2", "lake", "people", PEOPLE)
    table = glue.get_table(DatabaseName="lake", Name="people")["Table"]
    glue.update_table(DatabaseName="lake", TableInput={
        "Name": "people", "TableType": "EXTERNAL_TABLE", "StorageDescriptor": table["StorageDescriptor"],
        "Parameters": {"table_type": "ICEBERG", "metadata_location": metadata}})
    for dept in ("eng", "ops"):
        glue.create_table(DatabaseName="marts", TableInput=dept_view(dept, roles["definer"]))
        assert final_status(ep, "marts", f"dept_{dept}")["State"] == "SUCCESS"
    lf.create_data_cells_filter(TableData=table_data("eng", "dept = 'eng'", ["name"]))
    lf.create_data_cells_filter(TableData=table_data("ops", "dept IN ('ops')"))
    lf.create_data_cells_filter(TableData=table_data("hostile", "dept IN ('x'' OR ''a''=''a')"))
    analyst, athena = role_client(ep, "eng-analyst", "athena", ATHENA_ACTIONS)
    grant(ep, analyst, {"DataCellsFilter": {"TableCatalogId": ACCOUNT, "DatabaseName": "lake", "TableName": "people",
                                            "Name": "eng"}}, ["SELECT"])
    grant(ep, analyst, {"Table": {"DatabaseName": "marts", "Name": "dept_eng"}}, ["SELECT", "DESCRIBE"])
    ep.analyst, ep.analyst_athena, ep.roles = analyst, athena, roles
    yield ep
    stop()


def rows(ep, q, athena) -> list[list[str | None]]:
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    result = athena.get_query_results(QueryExecutionId=q["QueryExecutionId"])["ResultSet"]["Rows"]
    return [[c.get("VarCharValue") for c in r["Data"]] for r in result]


def filter_ref(name: str) -> dict:
    return {"DataCellsFilter": {"TableCatalogId": ACCOUNT, "DatabaseName": "lake", "TableName": "people", "Name": name}}


# ------------------------------------------------------------------ the APIs


def test_filters_are_created_read_listed_and_updated(lake):
    lf = lake.client("lakeformation")
    got = lf.get_data_cells_filter(TableCatalogId=ACCOUNT, DatabaseName="lake", TableName="people",
                                   Name="eng")["DataCellsFilter"]
    assert got["RowFilter"] == {"FilterExpression": "dept = 'eng'"}
    assert got["ColumnWildcard"] == {"ExcludedColumnNames": ["name"]}
    listed = lf.list_data_cells_filter(Table={"CatalogId": ACCOUNT, "DatabaseName": "lake", "Name": "people"})
    assert [f["Name"] for f in listed["DataCellsFilters"]] == ["eng", "hostile", "ops"]
    lf.create_data_cells_filter(TableData=table_data("tmp", "id > 1"))
    lf.update_data_cells_filter(TableData=table_data("tmp", "id > 2", ["dept"]))
    updated = lf.get_data_cells_filter(TableCatalogId=ACCOUNT, DatabaseName="lake", TableName="people",
                                       Name="tmp")["DataCellsFilter"]
    assert updated["RowFilter"]["FilterExpression"] == "id > 2" and updated["VersionId"] == "2"
    lf.delete_data_cells_filter(TableCatalogId=ACCOUNT, DatabaseName="lake", TableName="people", Name="tmp")
    with pytest.raises(ClientError) as gone:
        lf.get_data_cells_filter(TableCatalogId=ACCOUNT, DatabaseName="lake", TableName="people", Name="tmp")
    assert gone.value.response["Error"]["Code"] == "EntityNotFoundException"


@pytest.mark.parametrize("data, code", [
    (table_data("eng", "dept = 'eng'"), "AlreadyExistsException"),
    ({**table_data("x", "id > 1"), "TableName": "nobody"}, "EntityNotFoundException"),
    ({**table_data("x", "id > 1"), "DatabaseName": "marts", "TableName": "dept_eng"}, "InvalidInputException"),
    (table_data("x", "lower(dept) = 'eng'"), "InvalidInputException"),  # no functions
    (table_data("x", "dept = name"), "InvalidInputException"),  # columns compared with constants only
    (table_data("x", "salary > 1"), "InvalidInputException"),  # not a column of the table
    (table_data("x", "id > 1", ["salary"]), "InvalidInputException"),
    (table_data("x", "dept = 'eng' OR 1=1; DROP TABLE x"), "InvalidInputException"),
])
def test_create_refuses_what_lake_formation_refuses(lake, data, code):
    with pytest.raises(ClientError) as refused:
        lake.client("lakeformation").create_data_cells_filter(TableData=data)
    assert refused.value.response["Error"]["Code"] == code, refused.value.response


def test_grants_need_an_existing_filter_and_are_listed_on_it(lake):
    lf = lake.client("lakeformation")
    with pytest.raises(ClientError) as missing:
        grant(lake, lake.analyst, filter_ref("nobody"), ["SELECT"])
    assert missing.value.response["Error"]["Code"] == "EntityNotFoundException"
    with pytest.raises(ClientError) as wrong:
        grant(lake, lake.analyst, filter_ref("ops"), ["INSERT"])
    assert wrong.value.response["Error"]["Code"] == "InvalidInputException"
    listed = lf.list_permissions(Resource=filter_ref("eng"))["PrincipalResourcePermissions"]
    assert [(p["Principal"]["DataLakePrincipalIdentifier"], p["Permissions"]) for p in listed] == [
        (lake.analyst, ["SELECT"])]


def test_a_grant_on_a_view_that_does_not_exist_yet_is_refused(lake):
    """GrantPermissions on a named table or view needs it to exist: Terraform's per-view grants of an analyst
    group fail until the load that creates the view (README, Fine-grained access)."""
    with pytest.raises(ClientError) as missing:
        grant(lake, lake.analyst, {"Table": {"DatabaseName": "marts", "Name": "dept_sales"}}, ["SELECT"])
    assert missing.value.response["Error"]["Code"] == "EntityNotFoundException"


def test_only_a_grantor_of_the_whole_table_creates_filters(lake):
    """Data filtering limitations: SELECT with grant option on all columns (or a data lake admin)."""
    _, lf = role_client(lake, "filter-maker", "lakeformation", ["lakeformation:CreateDataCellsFilter"])
    with pytest.raises(ClientError) as denied:
        lf.create_data_cells_filter(TableData=table_data("mine", "id > 1"))
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


# ------------------------------------------------------------------ the local Athena through the filters


def test_the_analyst_reads_only_its_rows_and_columns_of_the_table(lake):
    athena = lake.analyst_athena
    got = rows(lake, run_query(lake, "SELECT * FROM lake.people ORDER BY id", athena=athena), athena)
    assert got == [["id", "dept"], ["1", "eng"], ["2", "eng"]]
    got = rows(lake, run_query(lake, "SELECT count(*) FROM lake.people WHERE dept <> 'eng'", athena=athena), athena)
    assert got == [["_col0"], ["0"]]


@pytest.mark.parametrize("sql", ["SELECT name FROM lake.people", "SELECT id FROM lake.people WHERE name = 'cy'",
                                 "SELECT p.name FROM lake.people p"])
def test_an_excluded_column_does_not_exist_for_the_analyst(lake, sql):
    q = run_query(lake, sql, athena=lake.analyst_athena)
    assert q["Status"]["State"] == "FAILED", q["Status"]
    assert q["Status"]["StateChangeReason"].startswith("COLUMN_NOT_FOUND"), q["Status"]


def test_the_analyst_reads_its_view_and_no_other(lake):
    athena = lake.analyst_athena
    assert rows(lake, run_query(lake, "SELECT * FROM marts.dept_eng", athena=athena), athena) == [
        ["dept", "n"], ["eng", "2"]]
    q = run_query(lake, "SELECT * FROM marts.dept_ops", athena=athena)
    assert q["Status"]["State"] == "FAILED" and f"{DENIED} marts.dept_ops" in q["Status"]["StateChangeReason"]


def test_a_quoted_value_matches_itself_only(lake):
    """The filter `dept IN ('x'' OR ''a''=''a')` (a value with quotes, quoted by doubling) admits that one row."""
    arn, athena = role_client(lake, "hostile-analyst", "athena", ATHENA_ACTIONS)
    grant(lake, arn, filter_ref("hostile"), ["SELECT"])
    got = rows(lake, run_query(lake, "SELECT id, name, dept FROM lake.people", athena=athena), athena)
    assert got == [["id", "name", "dept"], ["4", "o'brien", HOSTILE]]


def test_several_filters_read_as_their_union_cell_by_cell(lake):
    """eng rows without `name` + ops rows with every column: `name` is visible, NULL in eng rows."""
    arn, athena = role_client(lake, "two-filters", "athena", ATHENA_ACTIONS)
    grant(lake, arn, filter_ref("eng"), ["SELECT"])
    grant(lake, arn, filter_ref("ops"), ["SELECT"])
    got = rows(lake, run_query(lake, "SELECT * FROM lake.people ORDER BY id", athena=athena), athena)
    assert got == [["id", "name", "dept"], ["1", None, "eng"], ["2", None, "eng"], ["3", "cy", "ops"]]


def test_revoked_or_deleted_filters_read_nothing(lake):
    arn, athena = role_client(lake, "short-lived", "athena", ATHENA_ACTIONS)
    lf = lake.client("lakeformation")
    lf.create_data_cells_filter(TableData=table_data("short", "id = 3"))
    grant(lake, arn, filter_ref("short"), ["SELECT"])
    assert rows(lake, run_query(lake, "SELECT id FROM lake.people", athena=athena), athena) == [["id"], ["3"]]
    revoke(lake, arn, filter_ref("short"), ["SELECT"])
    q = run_query(lake, "SELECT id FROM lake.people", athena=athena)
    assert q["Status"]["State"] == "FAILED" and f"{DENIED} lake.people" in q["Status"]["StateChangeReason"]
    grant(lake, arn, filter_ref("short"), ["SELECT"])
    lf.delete_data_cells_filter(TableCatalogId=ACCOUNT, DatabaseName="lake", TableName="people", Name="short")
    assert lf.list_permissions(Resource=filter_ref("short"))["PrincipalResourcePermissions"] == []
    q = run_query(lake, "SELECT id FROM lake.people", athena=athena)
    assert q["Status"]["State"] == "FAILED" and f"{DENIED} lake.people" in q["Status"]["StateChangeReason"]


def test_admin_credentials_still_read_every_cell(lake):
    athena = lake.client("athena")
    got = rows(lake, run_query(lake, "SELECT id, name FROM lake.people ORDER BY id", athena=athena), athena)
    assert [r[1] for r in got[1:]] == ["ann", "bob", "cy", "o'brien"]
