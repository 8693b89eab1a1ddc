"""Lake Formation as a fresh account has it: Glue's default grants on new databases and tables."""

from __future__ import annotations

import pytest

from tests.localcloud.conftest import start_endpoint

IAP_ALL = [{"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}]


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    endpoint, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    yield endpoint
    stop()


def iap_grants(ep) -> list[dict]:
    return [p["Resource"] for p in ep.client("lakeformation").list_permissions()["PrincipalResourcePermissions"]
            if p["Principal"]["DataLakePrincipalIdentifier"] == "IAM_ALLOWED_PRINCIPALS" and p["Permissions"] == ["ALL"]]


def test_fresh_account_defaults_reach_new_databases_and_tables(ep):
    glue, lf = ep.client("glue"), ep.client("lakeformation")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    assert settings["CreateDatabaseDefaultPermissions"] == IAP_ALL
    assert settings["CreateTableDefaultPermissions"] == IAP_ALL
    glue.create_database(DatabaseInput={"Name": "first"})
    assert glue.get_database(Name="first")["Database"]["CreateTableDefaultPermissions"] == IAP_ALL
    glue.create_table(DatabaseName="first", TableInput={"Name": "t", "TableType": "EXTERNAL_TABLE"})
    assert {"Database": {"Name": "first"}} in iap_grants(ep)
    assert {"Table": {"DatabaseName": "first", "Name": "t"}} in iap_grants(ep)


def test_settings_apply_to_databases_created_after_them_only(ep):
    glue, lf = ep.client("glue"), ep.client("lakeformation")
    glue.create_database(DatabaseInput={"Name": "before"})
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [], "CreateDatabaseDefaultPermissions": [],
                                                "CreateTableDefaultPermissions": []})
    glue.create_database(DatabaseInput={"Name": "after"})
    for db in ("before", "after"):
        glue.create_table(DatabaseName=db, TableInput={"Name": "t", "TableType": "EXTERNAL_TABLE"})
    assert glue.get_database(Name="after")["Database"].get("CreateTableDefaultPermissions", []) == []
    grants = iap_grants(ep)
    assert {"Database": {"Name": "after"}} not in grants
    assert {"Table": {"DatabaseName": "after", "Name": "t"}} not in grants
    # The database created first keeps the defaults of its time, and hands them to its new tables.
    assert {"Database": {"Name": "before"}} in grants
    assert {"Table": {"DatabaseName": "before", "Name": "t"}} in grants


def test_database_request_defaults_win_and_views_get_none(ep):
    glue = ep.client("glue")
    glue.create_database(DatabaseInput={"Name": "explicit", "CreateTableDefaultPermissions": IAP_ALL})
    glue.create_table(DatabaseName="explicit", TableInput={"Name": "t", "TableType": "EXTERNAL_TABLE"})
    glue.create_table(DatabaseName="explicit", TableInput={"Name": "v", "TableType": "VIRTUAL_VIEW",
                                                           "ViewOriginalText": "SELECT 1"})
    grants = iap_grants(ep)
    assert {"Table": {"DatabaseName": "explicit", "Name": "t"}} in grants
    assert {"Table": {"DatabaseName": "explicit", "Name": "v"}} not in grants


def test_dropped_table_loses_its_grants_and_revoke_ignores_catalog_id(ep):
    glue, lf = ep.client("glue"), ep.client("lakeformation")
    glue.delete_table(DatabaseName="first", Name="t")
    assert {"Table": {"DatabaseName": "first", "Name": "t"}} not in iap_grants(ep)
    lf.revoke_permissions(Principal={"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
                          Resource={"Database": {"CatalogId": "123456789012", "Name": "first"}}, Permissions=["ALL"])
    assert {"Database": {"Name": "first"}} not in iap_grants(ep)
