"""Lake Formation on Glue Data Catalog calls: a role creates, reads, alters and drops tables only as granted.

Each rule has its negative case: CreateTable without CREATE_TABLE, GetTable/UpdateTable/DeleteTable without
a permission on the table, GetTables listing only the tables the caller may see. A table's creator holds
every permission on it, IAM_ALLOWED_PRINCIPALS on a database leaves it to IAM, and the admin keys are the
account's administrator.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from tests.localcloud.conftest import REGION, start_endpoint
from tests.localcloud.test_lf_support import grant, trust

pytestmark = pytest.mark.localcloud

DENIED = "Insufficient Lake Formation permission(s)"
TABLE = {"Name": "t", "TableType": "EXTERNAL_TABLE",
         "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "string"}], "Location": "s3://w/lake/t"}}


def role_glue(ep, name: str):
    """A Glue client with the STS credentials of a new role whose IAM policy allows every Glue call here:
    what it may do is then up to Lake Formation."""
    iam = ep.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust("glue.amazonaws.com"))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="glue", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
            "glue:DeleteTable"]}]}))
    creds = ep.client("sts").assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    return arn, boto3.client("glue", region_name=REGION, endpoint_url=ep.url, aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                             config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    endpoint, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    lf = endpoint.client("lakeformation")
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [], "CreateDatabaseDefaultPermissions": [],
                                                "CreateTableDefaultPermissions": []})
    glue = endpoint.client("glue")
    glue.create_database(DatabaseInput={"Name": "lake"})
    glue.create_table(DatabaseName="lake", TableInput={**TABLE, "Name": "theirs"})  # made by the admin
    yield endpoint
    stop()


def denied(exc_info) -> str:
    err = exc_info.value.response["Error"]
    assert err["Code"] == "AccessDeniedException", err
    assert DENIED in err["Message"], err
    return err["Message"]


def test_create_table_needs_create_table_on_the_database(ep):
    arn, glue = role_glue(ep, "writer")
    with pytest.raises(glue.exceptions.AccessDeniedException) as e:
        glue.create_table(DatabaseName="lake", TableInput=TABLE)
    assert denied(e).endswith("Required Create Table on lake")
    grant(ep, arn, {"Database": {"Name": "lake"}}, ["CREATE_TABLE"])
    glue.create_table(DatabaseName="lake", TableInput=TABLE)
    # the creator holds every permission on what it created
    assert glue.get_table(DatabaseName="lake", Name="t")["Table"]["Name"] == "t"
    glue.update_table(DatabaseName="lake", TableInput={**TABLE, "Description": "mine"})
    # ...and nothing on another principal's table
    with pytest.raises(glue.exceptions.AccessDeniedException) as e:
        glue.get_table(DatabaseName="lake", Name="theirs")
    assert denied(e).endswith("on theirs")
    assert [t["Name"] for t in glue.get_tables(DatabaseName="lake")["TableList"]] == ["t"]


def test_table_calls_need_their_permission(ep):
    arn, glue = role_glue(ep, "reader")
    assert glue.get_tables(DatabaseName="lake")["TableList"] == []
    with pytest.raises(glue.exceptions.AccessDeniedException):
        glue.get_table(DatabaseName="lake", Name="theirs")
    grant(ep, arn, {"Table": {"DatabaseName": "lake", "Name": "theirs"}}, ["SELECT", "DESCRIBE"])
    assert glue.get_table(DatabaseName="lake", Name="theirs")["Table"]["Name"] == "theirs"
    assert [t["Name"] for t in glue.get_tables(DatabaseName="lake")["TableList"]] == ["theirs"]
    with pytest.raises(glue.exceptions.AccessDeniedException) as e:
        glue.update_table(DatabaseName="lake", TableInput={**TABLE, "Name": "theirs", "Description": "x"})
    denied(e)
    with pytest.raises(glue.exceptions.AccessDeniedException) as e:
        glue.delete_table(DatabaseName="lake", Name="theirs")
    denied(e)
    grant(ep, arn, {"Table": {"DatabaseName": "lake", "TableWildcard": {}}}, ["ALTER", "DROP"])
    glue.update_table(DatabaseName="lake", TableInput={**TABLE, "Name": "theirs", "Description": "x"})
    glue.delete_table(DatabaseName="lake", Name="theirs")


def test_a_database_under_iam_access_control_is_left_to_iam(ep):
    ep.client("lakeformation").put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [], "CreateTableDefaultPermissions": [],
        "CreateDatabaseDefaultPermissions": [{"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
                                              "Permissions": ["ALL"]}]})
    ep.client("glue").create_database(DatabaseInput={"Name": "legacy"})  # inherits the IAM-only default
    _, glue = role_glue(ep, "legacy-writer")
    glue.create_table(DatabaseName="legacy", TableInput=TABLE)
    assert glue.get_table(DatabaseName="legacy", Name="t")["Table"]["Name"] == "t"
