"""Fine-grained access on the deployed stack (issue 13 part 3): an analyst group's data cells filter and view
grant over the table and views the pipeline made, read through the local Athena.

The filter and grants are made as modules/catalog makes them for a group with members (row filter
`entity1 IN ('ACME')`, `lakepipe_source_file` excluded, SELECT/DESCRIBE on the ACME view), but with boto3:
Terraform can only make them once the table and views exist, and re-applying the shared stack mid-session
would change what the other e2e tests see. Runs after test_pipeline_e2e (file order), whose first run loads
the sample; alone, it loads the sample itself.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from tools import local_lake

from .conftest import REGION, REPO, DeployedStack, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "sample_data" / "entities_sample.csv"
FILTER = {"DatabaseName": "lake", "TableName": "entities", "Name": "acme_analysts"}


@pytest.fixture(scope="module")
def acme_analyst(deployed_stack: DeployedStack, stack_env):
    """A role holding the analyst policy, SELECT on the group filter of lake.entities and on the ACME view."""
    glue, lf, iam = (deployed_stack.client(s) for s in ("glue", "lakeformation", "iam"))
    if not glue.get_tables(DatabaseName="lake", Expression="entities")["TableList"]:
        summary, _ = local_lake.run_file(SAMPLE, "entities", 900)
        assert summary["status"] == "SUCCEEDED", summary
    account = deployed_stack.client("sts").get_caller_identity()["Account"]
    role = iam.create_role(RoleName="e2e-acme-analyst", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="e2e-acme-analyst", PolicyArn=deployed_stack.outputs["analyst_policy_arn"])
    lf.create_data_cells_filter(TableData={
        **FILTER, "TableCatalogId": account, "RowFilter": {"FilterExpression": "entity1 IN ('ACME')"},
        "ColumnWildcard": {"ExcludedColumnNames": ["lakepipe_source_file"]}})
    principal = {"DataLakePrincipalIdentifier": role}
    view = {"Table": {"DatabaseName": "lake_views", "Name": "entity_view_acme"}}
    lf.grant_permissions(Principal=principal, Permissions=["SELECT"],
                         Resource={"DataCellsFilter": {**FILTER, "TableCatalogId": account}})
    lf.grant_permissions(Principal=principal, Permissions=["SELECT", "DESCRIBE"], Resource=view)
    creds = deployed_stack.client("sts").assume_role(RoleArn=role, RoleSessionName="acme")["Credentials"]
    athena = boto3.client("athena", region_name=REGION, endpoint_url=deployed_stack.endpoint_url,
                          aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))
    yield athena, deployed_stack.outputs["athena_workgroup"]
    lf.revoke_permissions(Principal=principal, Permissions=["SELECT", "DESCRIBE"], Resource=view)
    lf.delete_data_cells_filter(TableCatalogId=account, **FILTER)
    iam.detach_role_policy(RoleName="e2e-acme-analyst", PolicyArn=deployed_stack.outputs["analyst_policy_arn"])
    iam.delete_role(RoleName="e2e-acme-analyst")


def query(athena, workgroup: str, sql: str) -> tuple[str, str, list[list[str | None]]]:
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup)["QueryExecutionId"]

    def finished():
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        return q if q["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    status = wait_for(finished, 120, f"the analyst's query {sql!r}")["Status"]
    if status["State"] != "SUCCEEDED":
        return status["State"], status.get("StateChangeReason", ""), []
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return status["State"], "", [[c.get("VarCharValue") for c in r["Data"]] for r in rows]


def test_a_group_analyst_reads_its_rows_columns_and_view_only(acme_analyst):
    athena, workgroup = acme_analyst
    state, reason, rows = query(athena, workgroup, "SELECT DISTINCT entity1 FROM lake.entities")
    assert (state, rows) == ("SUCCEEDED", [["entity1"], ["ACME"]]), reason
    _, _, rows = query(athena, workgroup, "SELECT * FROM lake.entities LIMIT 1")
    assert "lakepipe_source_file" not in rows[0] and {"entity1", "key", "value", "lakepipe_run_id"} <= set(rows[0])
    as_admin = local_lake.athena_query("SELECT count(*) FROM lake.entities WHERE entity1 = 'ACME'")
    assert query(athena, workgroup, "SELECT count(*) FROM lake.entities")[2] == as_admin
    state, reason, _ = query(athena, workgroup, "SELECT lakepipe_source_file FROM lake.entities")
    assert state == "FAILED" and reason.startswith("COLUMN_NOT_FOUND"), reason
    state, reason, rows = query(athena, workgroup, "SELECT * FROM lake_views.entity_view_acme")
    assert state == "SUCCEEDED" and len(rows) > 1, reason
    state, reason, _ = query(athena, workgroup, "SELECT * FROM lake_views.entity_view_globex")
    assert state == "FAILED" and "Insufficient Lake Formation permission(s) on lake_views.entity_view_globex" in reason
