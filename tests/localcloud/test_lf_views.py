"""Lake Formation's rules for Glue Data Catalog views, and Glue's asynchronous view validation, in the endpoint.

Each refusal test breaks one prerequisite of a lake that is otherwise as AWS wants it (test_lf_support.build_lake)
and restores it afterwards; without the rule the CreateTable would succeed.
"""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from lakepipe.views import ViewJobError, wait_for_view
from tests.localcloud.conftest import start_endpoint
from tests.localcloud.test_lf_support import (
    ACCOUNT,
    ATHENA_SQL,
    PEOPLE_ARN,
    build_lake,
    final_status,
    grant,
    revoke,
    run_query,
    trust,
    view_input,
)

PEOPLE = {"Table": {"DatabaseName": "lake", "Name": "people"}}
IAP = "IAM_ALLOWED_PRINCIPALS"


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    ep, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    roles = build_lake(ep, tmp_path_factory.mktemp("lake"))
    ep.roles = roles
    yield ep
    stop()


def refused(ep, table_input: dict, database: str = "marts") -> ClientError:
    with pytest.raises(ClientError) as err:
        ep.client("glue").create_table(DatabaseName=database, TableInput=table_input)
    with pytest.raises(ClientError):  # nothing was created, not even the empty table
        ep.client("glue").get_table(DatabaseName=database, Name=table_input["Name"])
    return err.value


def test_view_is_created_asynchronously_then_readable(lake):
    glue = lake.client("glue")
    glue.create_table(DatabaseName="marts", TableInput=view_input("by_dept", lake.roles["definer"]))
    status = final_status(lake, "marts", "by_dept")
    assert status["State"] == "SUCCESS", status
    assert status["Action"] == "CREATE"
    validations = {v["Dialect"]: v for v in status["Details"]["ViewValidations"]}
    assert {d: v["State"] for d, v in validations.items()} == {"SPARK": "SUCCESS", "ATHENA": "SUCCESS"}
    assert validations["ATHENA"]["ViewValidationText"] == ATHENA_SQL
    table = glue.get_table(DatabaseName="marts", Name="by_dept")["Table"]
    athena_rep = next(r for r in table["ViewDefinition"]["Representations"] if r["Dialect"] == "ATHENA")
    # Glue stores a validated ATHENA text as a Presto view; the submitted SQL is in ViewValidationText.
    assert athena_rep["ViewOriginalText"].startswith("/* Presto View: ")
    encoded = athena_rep["ViewOriginalText"][len("/* Presto View: "):-len(" */")]
    assert json.loads(base64.b64decode(encoded))["originalSql"] == ATHENA_SQL
    q = run_query(lake, "SELECT * FROM marts.by_dept ORDER BY dept")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    wait_for_view(glue, "marts", "by_dept", deadline_s=5)  # the job's poll accepts it


@pytest.mark.parametrize("code, message", [("InvalidInputException", "without IAMAllowedPrincipals permissions")])
def test_refused_when_a_base_table_has_iam_allowed_principals(lake, code, message):
    grant(lake, IAP, PEOPLE, ["ALL"])
    try:
        err = refused(lake, view_input("v_iap", lake.roles["definer"]))
    finally:
        revoke(lake, IAP, PEOPLE, ["ALL"])
    assert err.response["Error"]["Code"] == code
    assert "Multi Dialect views may only reference tables without IAMAllowedPrincipals permissions" in str(err)


def test_refused_in_a_database_with_iam_allowed_principals_super(lake):
    grant(lake, IAP, {"Database": {"Name": "marts"}}, ["ALL"])
    try:
        err = refused(lake, view_input("v_db_iap", lake.roles["definer"]))
    finally:
        revoke(lake, IAP, {"Database": {"Name": "marts"}}, ["ALL"])
    assert err.response["Error"]["Code"] == "InvalidInputException"
    assert "IAMAllowedPrincipals" in str(err)


def test_tables_of_a_database_created_with_the_fresh_account_defaults_are_refused(lake):
    """The race of issue item 1: a database created while the account still has its default settings."""
    glue, lf = lake.client("glue"), lake.client("lakeformation")
    saved = lf.get_data_lake_settings()["DataLakeSettings"]
    default = [{"Principal": {"DataLakePrincipalIdentifier": IAP}, "Permissions": ["ALL"]}]
    lf.put_data_lake_settings(DataLakeSettings={**saved, "CreateDatabaseDefaultPermissions": default,
                                                "CreateTableDefaultPermissions": default})
    glue.create_database(DatabaseInput={"Name": "early", "LocationUri": "s3://lf-warehouse/wh/early/"})
    lf.put_data_lake_settings(DataLakeSettings=saved)
    glue.create_table(DatabaseName="early", TableInput={
        "Name": "t", "TableType": "EXTERNAL_TABLE", "Parameters": {"table_type": "ICEBERG"},
        "StorageDescriptor": {"Location": "s3://lf-warehouse/wh/early/t", "Columns": [{"Name": "dept", "Type": "string"}]}})
    grant(lake, lake.roles["definer"], {"Table": {"DatabaseName": "early", "Name": "t"}}, ["SELECT"], ["SELECT"])
    arn = f"arn:aws:glue:us-east-1:{ACCOUNT}:table/early/t"
    err = refused(lake, view_input("v_early", lake.roles["definer"], sub_objects=[arn],
                                   athena="SELECT dept, count(*) AS n FROM early.t GROUP BY dept"))
    assert "Multi Dialect views may only reference tables without IAMAllowedPrincipals permissions" in str(err)


def test_refused_without_select_with_grant_option(lake):
    definer = lake.roles["definer"]
    revoke(lake, definer, PEOPLE, [], ["SELECT"])
    try:
        err = refused(lake, view_input("v_nogrant", definer))
    finally:
        grant(lake, definer, PEOPLE, [], ["SELECT"])
    assert err.response["Error"]["Code"] == "AccessDeniedException"
    assert "Insufficient Lake Formation permission(s) on lake.people" in str(err)


def test_lake_formation_admin_definer_is_not_exempt(lake):
    lf = lake.client("lakeformation")
    saved = lf.get_data_lake_settings()["DataLakeSettings"]
    definer = lake.roles["definer"]
    lf.put_data_lake_settings(DataLakeSettings={**saved, "DataLakeAdmins": [{"DataLakePrincipalIdentifier": definer}]})
    revoke(lake, definer, {"Database": {"Name": "marts"}}, ["CREATE_TABLE"])
    try:
        err = refused(lake, view_input("v_admin", definer))
    finally:
        grant(lake, definer, {"Database": {"Name": "marts"}}, ["CREATE_TABLE"])
        lf.put_data_lake_settings(DataLakeSettings=saved)
    assert err.response["Error"]["Code"] == "AccessDeniedException"
    assert "Required Create Table on marts" in str(err)


def test_refused_when_the_location_is_not_registered(lake):
    lf = lake.client("lakeformation")
    lf.deregister_resource(ResourceArn="arn:aws:s3:::lf-warehouse/wh")
    try:
        err = refused(lake, view_input("v_unregistered", lake.roles["definer"]))
    finally:
        lf.register_resource(ResourceArn="arn:aws:s3:::lf-warehouse/wh", UseServiceLinkedRole=True)
    assert "s3://lf-warehouse/wh/lake/people" in str(err) and "not registered with Lake Formation" in str(err)


@pytest.mark.parametrize("services", [("glue.amazonaws.com",), ("lakeformation.amazonaws.com",)])
def test_refused_when_the_definer_trust_policy_lacks_a_service(lake, services):
    iam = lake.client("iam")
    name = "definer-" + services[0].split(".")[0]
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(*services))["Role"]["Arn"]
    grant(lake, arn, PEOPLE, ["SELECT"], ["SELECT"])
    grant(lake, arn, {"Database": {"Name": "marts"}}, ["CREATE_TABLE"])
    err = refused(lake, view_input("v_trust", arn))
    missing = ({"glue.amazonaws.com", "lakeformation.amazonaws.com"} - set(services)).pop()
    assert f"cannot be assumed by {missing}" in str(err)


def test_refused_when_the_definer_is_missing_or_not_a_role(lake):
    err = refused(lake, view_input("v_ghost", f"arn:aws:iam::{ACCOUNT}:role/no-such-role"))
    assert "does not exist" in str(err)
    err = refused(lake, view_input("v_user", f"arn:aws:iam::{ACCOUNT}:user/someone"))
    assert "only IAM roles can create Data Catalog views" in str(err)


def test_refused_with_more_than_ten_sub_objects(lake):
    err = refused(lake, view_input("v_wide", lake.roles["definer"], sub_objects=[PEOPLE_ARN] * 11))
    assert "at most 10 tables" in str(err)


def test_refused_when_a_sub_object_is_a_view(lake):
    glue = lake.client("glue")
    glue.create_table(DatabaseName="marts", TableInput=view_input("base_view", lake.roles["definer"]))
    assert final_status(lake, "marts", "base_view")["State"] == "SUCCESS"
    arn = f"arn:aws:glue:us-east-1:{ACCOUNT}:table/marts/base_view"
    err = refused(lake, view_input("v_of_v", lake.roles["definer"], sub_objects=[arn],
                                   athena="SELECT dept, n FROM marts.base_view"))
    assert "cannot reference other views" in str(err)


def test_athena_expanded_text_is_refused(lake):
    table_input = view_input("v_expanded", lake.roles["definer"])
    table_input["ViewDefinition"]["Representations"][1]["ViewExpandedText"] = ATHENA_SQL
    err = refused(lake, table_input)
    assert "View Expanded Text is not supported." in str(err)


def test_spark_representation_without_storage_descriptor_columns_is_refused(lake):
    table_input = view_input("v_nocols", lake.roles["definer"])
    table_input["StorageDescriptor"] = {}
    err = refused(lake, table_input)
    assert err.response["Error"]["Code"] == "InvalidInputException" and "StorageDescriptor.Columns" in str(err)


@pytest.mark.parametrize("name, kwargs, dialect, reason", [
    ("v_badcol", {"athena": "SELECT dept, count(nope) AS n FROM lake.people GROUP BY dept"}, "ATHENA",
     "COLUMN_NOT_FOUND"),
    ("v_badtype", {"columns": [{"Name": "dept", "Type": "string"}, {"Name": "n", "Type": "string"}]}, "ATHENA",
     "yields columns"),
    ("v_badspark", {"spark": "SELECT dept, count(*) AS n FROM glue_catalog.lake.people GROUP BY dept)"}, "SPARK",
     "PARSE_SYNTAX_ERROR"),
    ("v_othertable", {"athena": "SELECT name AS dept, count(*) AS n FROM lake.other GROUP BY name"}, "ATHENA",
     "SubObjects"),
])
def test_invalid_sql_fails_asynchronously_and_the_view_does_not_exist(lake, name, kwargs, dialect, reason):
    glue = lake.client("glue")
    glue.create_table(DatabaseName="marts", TableInput=view_input(name, lake.roles["definer"], **kwargs))
    status = final_status(lake, "marts", name)
    assert status["State"] == "FAILED", status
    failed = [v for v in status["Details"]["ViewValidations"] if v["State"] == "FAILED"]
    assert [v["Dialect"] for v in failed] == [dialect]
    assert reason in failed[0]["Error"]["ErrorMessage"], failed[0]
    assert "ViewDefinition" not in glue.get_table(DatabaseName="marts", Name=name)["Table"]  # the empty table
    q = run_query(lake, f"SELECT * FROM marts.{name}")
    assert q["Status"]["State"] == "FAILED" and "TABLE_NOT_FOUND" in q["Status"]["StateChangeReason"]
    with pytest.raises(ViewJobError) as err:
        wait_for_view(glue, "marts", name, deadline_s=5)
    assert f"marts.{name}" in str(err.value) and f"dialect {dialect}" in str(err.value) and reason in str(err.value)


def test_failed_update_keeps_the_previous_view(lake):
    glue = lake.client("glue")
    definer = lake.roles["definer"]
    glue.create_table(DatabaseName="marts", TableInput=view_input("stable", definer))
    assert final_status(lake, "marts", "stable")["State"] == "SUCCESS"
    glue.update_table(DatabaseName="marts", TableInput=view_input(
        "stable", definer, athena="SELECT dept, count(missing) AS n FROM lake.people GROUP BY dept"))
    status = final_status(lake, "marts", "stable")
    assert (status["Action"], status["State"]) == ("UPDATE", "FAILED")
    q = run_query(lake, "SELECT * FROM marts.stable ORDER BY dept")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]  # still the first version


def test_wait_for_view_deadline_names_the_view(lake):
    """A change still IN_PROGRESS when the deadline passes fails the job (the clock is advanced by the poll)."""
    glue = lake.client("glue")
    glue.create_table(DatabaseName="marts", TableInput=view_input("slow", lake.roles["definer"]))
    now = [0.0]

    def stuck_in_progress(**kwargs):
        table = glue.get_table(**kwargs)
        table["Table"]["Status"]["State"] = "IN_PROGRESS"
        return table

    class Glue:
        get_table = staticmethod(stuck_in_progress)

    with pytest.raises(ViewJobError) as err:
        wait_for_view(Glue(), "marts", "slow", deadline_s=3, clock=lambda: now[0],
                      sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert "marts.slow" in str(err.value) and "within 3 s" in str(err.value)


def test_s3_tables_sub_objects_are_checked_for_existence_not_for_grants(lake, tmp_path):
    """A base table of the S3 Tables federated catalog: the endpoint registers it in Glue as <ns>.<table>; its
    grants and location belong to the federated catalog (not modelled), so only existence applies."""
    from localcloud.iceberg_fixture import write_table
    from tests.localcloud.test_lf_support import PEOPLE

    glue, lf = lake.client("glue"), lake.client("lakeformation")
    lake.client("s3tables").create_table_bucket(name="lf-tables")
    saved = lf.get_data_lake_settings()["DataLakeSettings"]
    lf.put_data_lake_settings(DataLakeSettings={**saved, "CreateTableDefaultPermissions": [
        {"Principal": {"DataLakePrincipalIdentifier": IAP}, "Permissions": ["ALL"]}]})
    glue.create_database(DatabaseInput={"Name": "tns"})  # as the local Glue runner registers a namespace
    lf.put_data_lake_settings(DataLakeSettings=saved)
    glue.create_table(DatabaseName="tns", TableInput={
        "Name": "people", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": "ICEBERG", "metadata_location": write_table(tmp_path, "tns", "people", PEOPLE)},
        "StorageDescriptor": {"Location": "file:/local/warehouse/tns/people"}})
    grant(lake, lake.roles["definer"], {"Database": {"Name": "tns"}}, ["CREATE_TABLE"])
    arn = f"arn:aws:glue:us-east-1:{ACCOUNT}:table/s3tablescatalog/lf-tables/tns/people"
    athena = 'SELECT dept, count(*) AS n FROM "s3tablescatalog/lf-tables".tns.people GROUP BY dept'
    spark = "SELECT dept, count(*) AS n FROM s3tables_catalog.tns.people GROUP BY dept"
    glue.create_table(DatabaseName="tns", TableInput=view_input("by_dept", lake.roles["definer"], sub_objects=[arn],
                                                                athena=athena, spark=spark))
    assert final_status(lake, "tns", "by_dept")["State"] == "SUCCESS"
    missing = arn.replace("lf-tables", "no-such-bucket")
    err = refused(lake, view_input("v_nobucket", lake.roles["definer"], sub_objects=[missing], athena=athena,
                                   spark=spark), database="tns")
    assert err.response["Error"]["Code"] == "EntityNotFoundException" and "no-such-bucket" in str(err)
