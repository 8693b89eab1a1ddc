"""Lake Formation as a fresh AWS account has it, read from moto's backends (moto 5.2.5).

moto stores data lake settings, grants and registered locations but applies none of them. This module
answers the questions AWS answers with them:
- which permissions a principal holds on a database or table (direct, wildcard-table and
  all-columns grants; `ALL` is Lake Formation's "Super" and implies every other permission);
- the grants Glue makes when a database or table is created: the account's
  CreateDatabaseDefaultPermissions on a new database, the database's CreateTableDefaultPermissions
  on a new table (a fresh account has IAM_ALLOWED_PRINCIPALS: ALL in both, moto's defaults too);
- whether an S3 location is registered with Lake Formation (prefix match on RegisterResource ARNs);
- who is calling (the IAM principal behind the request's access key, None for the admin keys).

Resources are compared without CatalogId: the endpoint has one account, and clients send or omit
it freely (Terraform omits it, the console sends it).
"""

from __future__ import annotations

import copy
import os
from typing import Any

IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"
SUPER = "ALL"


def enforced() -> bool:
    """LOCALCLOUD_LAKEFORMATION=off (default on): no view rules, no checks on reads (tests about other things)."""
    return os.environ.get("LOCALCLOUD_LAKEFORMATION", "on").lower() not in ("off", "false", "0")


def _backend(account: str, region: str):
    from moto.lakeformation.models import lakeformation_backends

    return lakeformation_backends[account][region]


def settings(account: str, region: str) -> dict[str, Any]:
    """The account's data lake settings. PutDataLakeSettings replaces them whole: a list it omits is empty."""
    return _backend(account, region).get_data_lake_settings(account)


def normalize_resource(resource: dict[str, Any], account: str) -> dict[str, Any]:
    """The resource without CatalogId (= the account) in it, so grants, revokes and checks compare equal."""
    out: dict[str, Any] = {}
    for kind, value in resource.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items()
                     if not (k in ("CatalogId", "TableCatalogId") and v in (account, None))}
        out[kind] = value
    return out


def _grants(account: str, region: str) -> list:
    catalog = _backend(account, region).grants.get(account)
    return list(catalog.permissions) if catalog else []


def grant(account: str, region: str, principal: str, resource: dict[str, Any], permissions: list[str],
          grantable: list[str] | None = None) -> None:
    _backend(account, region).grant_permissions(
        account, {"DataLakePrincipalIdentifier": principal}, normalize_resource(resource, account),
        list(permissions), list(grantable or []))


def drop_grants(account: str, region: str, database: str, table: str | None = None) -> None:
    """Forget the grants on a deleted table (or a deleted database and its tables) and its data cells filters,
    as AWS does."""
    from . import lakeformation_cells

    lakeformation_cells.drop_table(account, region, database, table)
    catalog = _backend(account, region).grants.get(account)
    if not catalog:
        return
    for p in list(catalog.permissions):
        r = p.resource
        t = r.get("Table") or r.get("TableWithColumns") or r.get("DataCellsFilter")
        on_db = (r.get("Database") or {}).get("Name") == database and table is None
        name = t.get("TableName", t.get("Name")) if "DataCellsFilter" in r else (t or {}).get("Name")
        on_table = t is not None and t.get("DatabaseName") == database and (table is None or name == table)
        if on_db or on_table:
            catalog.permissions.discard(p)


def _principal_of(p) -> str | None:
    return (p.principal or {}).get("DataLakePrincipalIdentifier")


def _covers_table(resource: dict[str, Any], database: str, table: str) -> bool:
    """Does this grant's resource cover every column of database.table?"""
    t = resource.get("Table")
    if t is not None:
        return t.get("DatabaseName") == database and (t.get("Name") == table or "TableWildcard" in t)
    twc = resource.get("TableWithColumns")
    if twc is not None and twc.get("DatabaseName") == database and twc.get("Name") == table:
        wildcard = twc.get("ColumnWildcard")
        return wildcard is not None and not (wildcard or {}).get("ExcludedColumnNames")
    return False


def table_permissions(account: str, region: str, principal: str, database: str, table: str
                      ) -> tuple[set[str], set[str]]:
    """(permissions, grantable permissions) `principal` holds on every column of database.table."""
    held: set[str] = set()
    grantable: set[str] = set()
    for p in _grants(account, region):
        if _principal_of(p) == principal and _covers_table(p.resource, database, table):
            held |= set(p.permissions or [])
            grantable |= set(p.permissions_with_grant_options or [])
    return held, grantable


def database_permissions(account: str, region: str, principal: str, database: str) -> set[str]:
    held: set[str] = set()
    for p in _grants(account, region):
        if _principal_of(p) == principal and (p.resource.get("Database") or {}).get("Name") == database:
            held |= set(p.permissions or [])
    return held


def holds(permissions: set[str], wanted: str) -> bool:
    return wanted in permissions or SUPER in permissions


def iam_allowed_on_table(account: str, region: str, database: str, table: str) -> bool:
    """Is IAM_ALLOWED_PRINCIPALS granted anything on the table (the "use only IAM access control" default)?"""
    return any(_principal_of(p) == IAM_ALLOWED_PRINCIPALS and _covers_table(p.resource, database, table)
               and (p.permissions or p.permissions_with_grant_options) for p in _grants(account, region))


def iam_allowed_super_on_database(account: str, region: str, database: str) -> bool:
    return SUPER in database_permissions(account, region, IAM_ALLOWED_PRINCIPALS, database)


def can_select(account: str, region: str, principal: str, database: str, table: str) -> bool:
    """SELECT on all columns, or a table still under IAM access control (IAM_ALLOWED_PRINCIPALS): then only
    IAM policies decide, as on AWS."""
    held, _ = table_permissions(account, region, principal, database, table)
    return holds(held, "SELECT") or iam_allowed_on_table(account, region, database, table)


# ------------------------------------------------------------------ Glue's default grants


def apply_database_defaults(account: str, region: str, database: str, database_input: dict[str, Any]) -> None:
    """CreateDatabase: the account's CreateDatabaseDefaultPermissions become grants on the database, and the
    database keeps CreateTableDefaultPermissions (the request's, else the account's at this moment)."""
    current = settings(account, region)
    for entry in current.get("CreateDatabaseDefaultPermissions") or []:
        grant(account, region, entry["Principal"]["DataLakePrincipalIdentifier"], {"Database": {"Name": database}},
              entry.get("Permissions") or [])
    if "CreateTableDefaultPermissions" not in database_input:
        database_input["CreateTableDefaultPermissions"] = copy.deepcopy(
            current.get("CreateTableDefaultPermissions") or [])


def apply_table_defaults(account: str, region: str, database_input: dict[str, Any], database: str,
                         table: str) -> None:
    """CreateTable (a table, not a view): the database's CreateTableDefaultPermissions become grants on it."""
    for entry in database_input.get("CreateTableDefaultPermissions") or []:
        grant(account, region, entry["Principal"]["DataLakePrincipalIdentifier"],
              {"Table": {"DatabaseName": database, "Name": table}}, entry.get("Permissions") or [])


# ------------------------------------------------------------------ registered locations


def s3_arn(uri: str) -> str | None:
    """`s3://bucket/key` (or s3a/s3n) -> `arn:aws:s3:::bucket/key`; None for any other scheme."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        if uri.startswith(scheme):
            return "arn:aws:s3:::" + uri[len(scheme):].rstrip("/")
    return None


def location_registered(account: str, region: str, uri: str) -> bool:
    arn = s3_arn(uri)
    if arn is None:
        return False
    for registered in _backend(account, region).resources:
        root = registered.rstrip("/")
        if arn == root or arn.startswith(root + "/"):
            return True
    return False


# ------------------------------------------------------------------ callers


def caller_principal(headers) -> str | None:
    """The IAM principal (user or role ARN) behind a SigV4-signed request's access key; None for the admin
    keys. A key the endpoint never issued is nobody's: it holds no Lake Formation permission."""
    from . import principals

    access_key_id = principals.credential_scope(headers)[0] or ""
    try:
        return principals.principal_arn(access_key_id)
    except LookupError:
        return f"unknown-access-key/{access_key_id}"
