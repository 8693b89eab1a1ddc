"""Lake Formation permissions on Glue Data Catalog calls (moto 5.2.5 applies none).

On AWS, a Glue Data Catalog call on a database or table governed by Lake Formation needs, besides the
caller's IAM permission, a Lake Formation permission of the caller (Lake Formation "Lake Formation
permissions reference" and "Implicit Lake Formation permissions"):
- CreateTable: CREATE_TABLE on the database, else "Insufficient Lake Formation permission(s): Required
  Create Table on <database>";
- UpdateTable: ALTER on the table; DeleteTable: DROP on the table; GetTable: any permission on the table,
  else "Insufficient Lake Formation permission(s) on <table>";
- GetTables lists only the tables the caller holds a permission on.
What is still under IAM access control (IAM_ALLOWED_PRINCIPALS holding Super on the database, or a
permission on the table) is left to IAM. Implicit permissions: the creator of a table holds every
permission on it; data lake administrators may describe every table (GetTable/GetTables); calls with the
endpoint's admin keys (Terraform, tests, `make run`) are the account's administrator and are not checked.
Calls addressed to the federated S3 Tables catalog (CatalogId `<account>:s3tablescatalog/<bucket>`) are
not checked: the endpoint does not model that catalog's grants (see patches/glue_views.py).

This is how the Glue jobs' roles "read and write what they were granted and nothing else": the local Glue
runner reads and registers the jobs' tables with the job role's credentials, and the view job creates,
updates and drops views with its own.

LOCALCLOUD_LAKEFORMATION=off turns these checks off with the other Lake Formation rules.
"""

from __future__ import annotations

import threading

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.glue import responses as glue_responses

from .. import lakeformation_model as lf

# (account, region, database, table) -> principal ARN of the table's creator (implicit Super)
_creators: dict[tuple[str, str, str, str], str] = {}
_creators_lock = threading.Lock()


class LakeFormationAccessDenied(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


def _caller(response) -> str | None:
    """The principal to check, None when the call is not checked (admin keys, LF off, federated catalog)."""
    if not lf.enforced() or "s3tablescatalog" in str(response.parameters.get("CatalogId") or ""):
        return None
    return lf.caller_principal(response.headers)


def _is_admin(response, principal: str) -> bool:
    admins = lf.settings(response.current_account, response.region).get("DataLakeAdmins") or []
    return any(a.get("DataLakePrincipalIdentifier") == principal for a in admins)


def _table_permissions(response, principal: str, database: str, table: str) -> set[str] | None:
    """The caller's permissions on the table; None when IAM alone governs it."""
    account, region = response.current_account, response.region
    if lf.iam_allowed_on_table(account, region, database, table):
        return None
    with _creators_lock:
        if _creators.get((account, region, database, table)) == principal:
            return {lf.SUPER}
    held, _ = lf.table_permissions(account, region, principal, database, table)
    return held


def _require_on_table(response, principal: str, database: str, table: str, permission: str | None) -> None:
    """`permission` on the table (None: any permission, as GetTable needs)."""
    held = _table_permissions(response, principal, database, table)
    if held is None:
        return
    if (lf.holds(held, permission) if permission else bool(held)):
        return
    raise LakeFormationAccessDenied(f"Insufficient Lake Formation permission(s) on {table}")


def _create_table(original):
    def create_table(self):
        principal = _caller(self)
        database = self.parameters.get("DatabaseName")
        table = (self.parameters.get("TableInput") or {}).get("Name")
        if principal is not None:
            account, region = self.current_account, self.region
            held = lf.database_permissions(account, region, principal, database)
            if not (lf.iam_allowed_super_on_database(account, region, database) or lf.holds(held, "CREATE_TABLE")):
                raise LakeFormationAccessDenied(
                    f"Insufficient Lake Formation permission(s): Required Create Table on {database}")
        result = original(self)
        if principal is not None:
            with _creators_lock:
                _creators[(self.current_account, self.region, database, table)] = principal
        return result

    return create_table


def _on_table(original, permission: str | None, name_of):
    def call(self):
        principal = _caller(self)
        if principal is not None and not (permission is None and _is_admin(self, principal)):
            _require_on_table(self, principal, self.parameters.get("DatabaseName"), name_of(self.parameters),
                              permission)
        return original(self)

    call.__name__ = original.__name__
    return call


def _delete_table(original):
    checked = _on_table(original, "DROP", lambda p: p.get("Name"))

    def delete_table(self):
        result = checked(self)
        with _creators_lock:
            _creators.pop((self.current_account, self.region, self.parameters.get("DatabaseName"),
                           self.parameters.get("Name")), None)
        return result

    return delete_table


def get_tables(self) -> ActionResult:
    database = self.parameters.get("DatabaseName")
    tables = self.glue_backend.get_tables(database, self.parameters.get("Expression"))
    principal = _caller(self)
    if principal is not None and not _is_admin(self, principal):
        tables = [t for t in tables if _table_permissions(self, principal, database, t.name) != set()]
    return ActionResult({"TableList": [t.as_dict() for t in tables]})


def apply() -> None:
    r = glue_responses.GlueResponse
    r.create_table = _create_table(r.create_table)
    r.update_table = _on_table(r.update_table, "ALTER", lambda p: (p.get("TableInput") or {}).get("Name"))
    r.delete_table = _delete_table(r.delete_table)
    r.get_table = _on_table(r.get_table, None, lambda p: p.get("Name"))
    r.get_tables = get_tables
