"""Builders shared by the Lake Formation tests: a governed lake as AWS wants it for Data Catalog views.

Not a test module (no tests); imported by test_lf_*.py.
"""

from __future__ import annotations

import json

from localcloud.iceberg_fixture import write_table
from tests.localcloud.conftest import wait_for

ACCOUNT = "123456789012"
WAREHOUSE = "s3://lf-warehouse/wh"
PEOPLE = "SELECT * FROM (VALUES (1, 'ann', 'eng'), (2, 'bob', 'eng'), (3, 'cy', 'ops')) AS t(id, name, dept)"
VIEW_COLUMNS = [{"Name": "dept", "Type": "string"}, {"Name": "n", "Type": "bigint"}]
ATHENA_SQL = "SELECT dept, count(*) AS n FROM lake.people GROUP BY dept"
SPARK_SQL = "SELECT dept, count(*) AS n FROM glue_catalog.lake.people GROUP BY dept"
PEOPLE_ARN = f"arn:aws:glue:us-east-1:{ACCOUNT}:table/lake/people"


def trust(*services: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]})


def build_lake(ep, tmp_path) -> dict[str, str]:
    """Settings without IAM_ALLOWED_PRINCIPALS defaults (applied before the databases), `lake` (tables) and
    `marts` (views) databases, lake.people (Iceberg, at a registered S3 location), a definer role with the
    grants AWS requires. Returns the role ARNs."""
    glue, lf, iam, s3 = ep.client("glue"), ep.client("lakeformation"), ep.client("iam"), ep.client("s3")
    s3.create_bucket(Bucket="lf-warehouse")
    s3.create_bucket(Bucket="lf-results")
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [], "CreateDatabaseDefaultPermissions": [],
                                                "CreateTableDefaultPermissions": []})
    glue.create_database(DatabaseInput={"Name": "lake", "LocationUri": f"{WAREHOUSE}/lake/"})
    glue.create_database(DatabaseInput={"Name": "marts"})
    metadata = write_table(tmp_path / "iceberg", "lake", "people", PEOPLE)
    glue.create_table(DatabaseName="lake", TableInput={
        "Name": "people", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": "ICEBERG", "metadata_location": metadata},
        "StorageDescriptor": {"Location": f"{WAREHOUSE}/lake/people",
                              "Columns": [{"Name": "id", "Type": "int"}, {"Name": "name", "Type": "string"},
                                          {"Name": "dept", "Type": "string"}]}})
    lf.register_resource(ResourceArn="arn:aws:s3:::lf-warehouse/wh", UseServiceLinkedRole=True)
    definer = iam.create_role(RoleName="definer", AssumeRolePolicyDocument=trust(
        "glue.amazonaws.com", "lakeformation.amazonaws.com"))["Role"]["Arn"]
    grant(ep, definer, {"Table": {"DatabaseName": "lake", "Name": "people"}}, ["SELECT", "DESCRIBE"],
          grantable=["SELECT", "DESCRIBE"])
    grant(ep, definer, {"Database": {"Name": "marts"}}, ["CREATE_TABLE", "DESCRIBE"])
    return {"definer": definer}


def grant(ep, principal: str, resource: dict, permissions: list[str], grantable: list[str] | None = None) -> None:
    ep.client("lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource, Permissions=permissions,
        PermissionsWithGrantOption=grantable or [])


def revoke(ep, principal: str, resource: dict, permissions: list[str], grantable: list[str] | None = None) -> None:
    ep.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource, Permissions=permissions,
        PermissionsWithGrantOption=grantable or [])


def view_input(name: str, definer: str, *, athena: str = ATHENA_SQL, spark: str = SPARK_SQL,
               sub_objects: list[str] | None = None, columns: list[dict] | None = None) -> dict:
    return {
        "Name": name, "TableType": "VIRTUAL_VIEW",
        "StorageDescriptor": {"Columns": columns or VIEW_COLUMNS},
        "ViewDefinition": {
            "IsProtected": True, "Definer": definer,
            "SubObjects": [PEOPLE_ARN] if sub_objects is None else sub_objects,
            "Representations": [
                {"Dialect": "SPARK", "DialectVersion": "3.5", "ViewOriginalText": spark, "ViewExpandedText": spark},
                {"Dialect": "ATHENA", "DialectVersion": "3", "ViewOriginalText": athena}]},
    }


def final_status(ep, database: str, name: str, deadline: float = 30) -> dict:
    glue = ep.client("glue")

    def done():
        status = glue.get_table(DatabaseName=database, Name=name, IncludeStatusDetails=True)["Table"]["Status"]
        return status if status["State"] in ("SUCCESS", "FAILED") else None

    return wait_for(done, deadline, f"view {database}.{name} to leave IN_PROGRESS")


def run_query(ep, sql: str, athena=None, deadline: float = 60) -> dict:
    athena = athena or ep.client("athena")
    qid = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": "s3://lf-results/q/"},
                                       QueryExecutionContext={"Database": "marts"})["QueryExecutionId"]

    def done():
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        return q if q["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    return wait_for(done, deadline, f"query {sql!r}")
