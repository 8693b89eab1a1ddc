"""Lake Formation on reads in the local Athena: queries run as the caller (an IAM role's STS credentials here).

An analyst granted SELECT on one view reads it (with the definer's rights on the base table), and gets
Athena's access error on the base table, on a view it holds only DESCRIBE on, and on a view it was never
granted; the admin credentials read everything.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

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


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    ep, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    roles = build_lake(ep, tmp_path_factory.mktemp("lake"))
    glue = ep.client("glue")
    for name in ("granted", "described", "other"):
        glue.create_table(DatabaseName="marts", TableInput=view_input(name, roles["definer"]))
        assert final_status(ep, "marts", name)["State"] == "SUCCESS"
    iam = ep.client("iam")
    analyst = iam.create_role(RoleName="analyst", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    # What Athena needs from IAM (the endpoint may evaluate identity policies); data access is Lake Formation's.
    iam.put_role_policy(RoleName="analyst", PolicyName="athena", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["athena:StartQueryExecution", "athena:GetQueryExecution",
                                           "athena:GetQueryResults", "glue:GetDatabase", "glue:GetDatabases",
                                           "glue:GetTable", "glue:GetTables", "lakeformation:GetDataAccess"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::lf-results", "arn:aws:s3:::lf-results/*"]}]}))
    grant(ep, analyst, {"Database": {"Name": "marts"}}, ["DESCRIBE"])
    grant(ep, analyst, {"Table": {"DatabaseName": "marts", "Name": "granted"}}, ["SELECT", "DESCRIBE"])
    grant(ep, analyst, {"Table": {"DatabaseName": "marts", "Name": "described"}}, ["DESCRIBE"])
    creds = ep.client("sts").assume_role(RoleArn=analyst, RoleSessionName="analyst")["Credentials"]
    ep.analyst_athena = boto3.client(
        "athena", region_name=REGION, endpoint_url=ep.url, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1}))
    ep.roles = {**roles, "analyst": analyst}
    yield ep
    stop()


def test_analyst_reads_the_granted_view_without_access_to_its_table(lake):
    q = run_query(lake, "SELECT * FROM marts.granted ORDER BY dept", athena=lake.analyst_athena)
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]


@pytest.mark.parametrize("sql, denied_on", [
    ("SELECT * FROM lake.people", "lake.people"),
    ("SELECT * FROM marts.described", "marts.described"),  # DESCRIBE is not SELECT
    ("SELECT * FROM marts.other", "marts.other"),
    ("SELECT g.dept FROM marts.granted g JOIN lake.people p ON p.dept = g.dept", "lake.people"),
])
def test_analyst_is_denied_what_it_was_not_granted(lake, sql, denied_on):
    q = run_query(lake, sql, athena=lake.analyst_athena)
    assert q["Status"]["State"] == "FAILED", q["Status"]
    assert f"{DENIED} {denied_on}" in q["Status"]["StateChangeReason"]


def test_admin_credentials_read_everything(lake):
    for sql in ("SELECT * FROM lake.people", "SELECT * FROM marts.other"):
        q = run_query(lake, sql)
        assert q["Status"]["State"] == "SUCCEEDED", q["Status"]


def test_view_is_read_with_its_definers_rights(lake):
    """Revoking the definer's SELECT on the base table breaks the view for its readers too."""
    definer = lake.roles["definer"]
    people = {"Table": {"DatabaseName": "lake", "Name": "people"}}
    revoke(lake, definer, people, ["SELECT"], ["SELECT"])
    try:
        q = run_query(lake, "SELECT * FROM marts.granted", athena=lake.analyst_athena)
    finally:
        grant(lake, definer, people, ["SELECT"], ["SELECT"])
    assert q["Status"]["State"] == "FAILED" and f"{DENIED} lake.people" in q["Status"]["StateChangeReason"]
