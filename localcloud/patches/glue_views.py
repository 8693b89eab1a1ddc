"""Glue Data Catalog views and Lake Formation's rules for them (moto 5.2.5).

Gaps: moto's Glue knows nothing of Lake Formation (no default grants on new databases and tables) and
commits a multi-dialect view (TableType VIRTUAL_VIEW with ViewDefinition) the moment CreateTable or
UpdateTable is called, whatever it references and whoever defines it. AWS (Lake Formation "Prerequisites
for creating views", "Data Catalog views considerations and limitations", "Validating the view generation
status"; Glue CreateTable/GetTable) does this instead, and so does the endpoint now:

- CreateDatabase grants the account's CreateDatabaseDefaultPermissions on the database and keeps its
  CreateTableDefaultPermissions (the request's, else the account's); CreateTable of a table (not a view)
  grants the database's CreateTableDefaultPermissions on it. Deleting a table or database drops its grants.
- CreateTable/UpdateTable of a multi-dialect view is refused at once when: the definer is not an existing
  IAM role trusted by glue.amazonaws.com and lakeformation.amazonaws.com; there are more than 10
  SubObjects; a SubObject is a view or a resource link (or does not exist); the view's database has
  Super/ALL for IAM_ALLOWED_PRINCIPALS; the definer lacks CREATE_TABLE on the view's database; and, for
  each SubObject of the Glue Data Catalog, when it carries IAM_ALLOWED_PRINCIPALS permissions, when the
  definer lacks SELECT with grant option on all its columns, or when its S3 location is not registered
  with Lake Formation. An ATHENA representation with ViewExpandedText is refused ("View Expanded Text is
  not supported."), as Glue does; a SPARK representation needs StorageDescriptor columns.
- SubObjects in the S3 Tables federated catalog (`...:table/s3tablescatalog/<bucket>/<ns>/<table>`) are
  checked for existence (the table bucket, and <ns>.<table>, where the local Glue runner registers S3 Tables
  tables) and for not being views; their Lake Formation grants and locations belong to the federated
  catalog, which the endpoint does not model (and AWS provider 5.100 cannot grant on), so those checks
  are not applied to them.
- Then the change is asynchronous: CreateTable/UpdateTable return, GetTable(IncludeStatusDetails=True)
  shows Status {Action CREATE|UPDATE, State IN_PROGRESS -> SUCCESS|FAILED, Error, Details {RequestedChange,
  ViewValidations [{Dialect, DialectVersion, ViewValidationText, UpdateTime, State, Error}]}}. The ATHENA
  text is validated by the local Athena (translated and resolved as a query, with the definer's Lake
  Formation rights; its columns must be the StorageDescriptor's), the SPARK text is parsed by sqlglot's
  spark dialect; each dialect must reference exactly the SubObjects. A CREATE leaves an empty table until
  it succeeds (queries fail: the view does not exist); a failed UPDATE leaves the previous version.
  On success the ATHENA ViewOriginalText is stored as `/* Presto View: <base64> */`, as Glue does.

LOCALCLOUD_LAKEFORMATION=off (default on) restores moto's behaviour for views (committed at once, no rule)
and lets Athena read without Lake Formation checks: for tests about something else.

Whatever that setting, CreateTable/UpdateTable refuse a view text (ViewOriginalText/ViewExpandedText of the
TableInput or of a ViewDefinition representation) longer than 409,600 characters (the Glue API's
ViewTextString) with ValidationException, as Glue refuses a request outside its model's length constraints;
moto does not check them. The value itself is not echoed in the message (Glue leaves long values out too).
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.glue import models as glue_models
from moto.glue import responses as glue_responses
from moto.glue.exceptions import EntityNotFoundException

from .. import lakeformation_model as lf

log = logging.getLogger("localcloud.glue.views")

MAX_SUB_OBJECTS = 10
MAX_VIEW_TEXT = 409_600  # characters (Glue API shape ViewTextString)
DEFINER_SERVICES = ("glue.amazonaws.com", "lakeformation.amazonaws.com")
S3TABLES_CATALOG = "s3tablescatalog"
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glue-views")
_lock = threading.Lock()
_request = threading.local()  # the caller of the Glue request being handled on this thread


class InvalidInput(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("InvalidInputException", message)


class AccessDenied(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


@dataclass
class Validation:
    dialect: str
    dialect_version: str | None
    text: str
    state: str = "IN_PROGRESS"
    error: tuple[str, str] | None = None
    update_time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"Dialect": self.dialect, "ViewValidationText": self.text, "State": self.state,
                             "UpdateTime": self.update_time}
        if self.dialect_version:
            d["DialectVersion"] = self.dialect_version
        if self.error:
            d["Error"] = {"ErrorCode": self.error[0], "ErrorMessage": self.error[1]}
        return d


@dataclass
class ViewChange:
    """One asynchronous CreateTable/UpdateTable of a view (Glue's TableStatus)."""

    action: str
    database: str
    requested: dict[str, Any]
    requested_by: str
    validations: list[Validation]
    state: str = "IN_PROGRESS"
    error: tuple[str, str] | None = None
    request_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    update_time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_status(self, catalog_id: str) -> dict[str, Any]:
        requested = {"Name": self.requested["Name"], "DatabaseName": self.database, "CatalogId": catalog_id,
                     **self.requested}
        status: dict[str, Any] = {
            "RequestedBy": self.requested_by, "UpdatedBy": self.requested_by, "RequestTime": self.request_time,
            "UpdateTime": self.update_time, "Action": self.action, "State": self.state,
            "Details": {"RequestedChange": requested, "ViewValidations": [v.as_dict() for v in self.validations]},
        }
        if self.error:
            status["Error"] = {"ErrorCode": self.error[0], "ErrorMessage": self.error[1]}
        return status


def is_multi_dialect_view(table_input: dict[str, Any]) -> bool:
    return table_input.get("TableType") == "VIRTUAL_VIEW" and bool(table_input.get("ViewDefinition"))


# ------------------------------------------------------------------ the rules checked at the request


@dataclass(frozen=True)
class SubObject:
    arn: str
    database: str
    table: str
    s3tables_bucket: str | None  # set for tables of the S3 Tables federated catalog


def parse_sub_object(arn: str, account: str) -> SubObject:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "glue" or not parts[5].startswith("table/"):
        raise InvalidInput(f"SubObject {arn} is not a Glue table ARN")
    if parts[4] != account:
        raise InvalidInput(f"SubObject {arn}: Data Catalog views may reference tables of their own account only")
    path = parts[5][len("table/"):].split("/")
    if len(path) == 2:
        return SubObject(arn, path[0], path[1], None)
    if len(path) == 4 and path[0] == S3TABLES_CATALOG:
        return SubObject(arn, path[2], path[3], path[1])
    raise InvalidInput(f"SubObject {arn}: expected table/<database>/<table> or "
                       f"table/{S3TABLES_CATALOG}/<table bucket>/<namespace>/<table>")


def _check_definer(account: str, definer: str | None) -> str:
    from .. import principals

    if not definer:
        raise InvalidInput("ViewDefinition.Definer is required: only IAM roles can create Data Catalog views")
    parts = definer.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise InvalidInput(f"Definer {definer} is not an IAM role: only IAM roles can create Data Catalog views")
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[parts[4]]["aws"].get_role_by_arn(definer)
    except Exception:  # noqa: BLE001 - moto raises its NoSuchEntity types
        raise InvalidInput(f"Definer role {definer} does not exist") from None
    for service in DEFINER_SERVICES:
        if not principals.trust_allows_service(role.assume_role_policy_document, service,
                                               {"aws:SourceAccount": account}):
            raise InvalidInput(f"Definer role {definer} cannot be assumed by {service}: the view definer's trust "
                               f"policy must let {' and '.join(DEFINER_SERVICES)} assume it")
    return definer


def _table_s3_location(backend, database: str, table: dict[str, Any]) -> str | None:
    """The table's S3 location. The local Glue runner's Iceberg tables live on local disk (file:/...);
    on AWS, Iceberg's GlueCatalog puts a table at <database LocationUri>/<table>, which is used then."""
    location = (table.get("StorageDescriptor") or {}).get("Location") or ""
    if lf.s3_arn(location):
        return location
    db_location = backend.get_database(database).input.get("LocationUri") or ""
    if lf.s3_arn(db_location):
        return db_location.rstrip("/") + "/" + table["Name"]
    return None


def _check_sub_object(backend, definer: str, sub: SubObject) -> None:
    account, region = backend.account_id, backend.region_name
    if sub.s3tables_bucket is not None:
        from moto.s3tables.models import s3tables_backends

        if not any(b.name == sub.s3tables_bucket for b in s3tables_backends[account][region].table_buckets.values()):
            raise EntityNotFoundException(f"SubObject {sub.arn}: no S3 table bucket named {sub.s3tables_bucket}")
    try:
        table_obj = backend.get_table(sub.database, sub.table)
    except JsonRESTError:
        raise EntityNotFoundException(f"SubObject {sub.arn}: table {sub.database}.{sub.table} not found") from None
    table = table_obj.as_dict()
    if table.get("TableType") == "VIRTUAL_VIEW" or getattr(table_obj, "localcloud_view_change", None):
        raise InvalidInput(f"SubObject {sub.arn} is a view: Data Catalog views cannot reference other views")
    if table.get("TargetTable"):
        raise InvalidInput(f"SubObject {sub.arn} is a resource link: Data Catalog views cannot reference "
                           "resource links")
    if sub.s3tables_bucket is not None:
        return
    if lf.iam_allowed_on_table(account, region, sub.database, sub.table):
        raise InvalidInput("Multi Dialect views may only reference tables without IAMAllowedPrincipals permissions "
                           f"({sub.database}.{sub.table} has IAM_ALLOWED_PRINCIPALS permissions)")
    _, grantable = lf.table_permissions(account, region, definer, sub.database, sub.table)
    if not lf.holds(grantable, "SELECT"):
        raise AccessDenied(f"Insufficient Lake Formation permission(s) on {sub.database}.{sub.table}: the view "
                           f"definer {definer} needs SELECT with grant option on all its columns")
    location = _table_s3_location(backend, sub.database, table)
    if location is None or not lf.location_registered(account, region, location):
        raise InvalidInput(f"The location {location or '(none)'} of {sub.database}.{sub.table} is not registered "
                           "with Lake Formation: Data Catalog views need their tables' S3 locations registered")


def check_view(backend, database: str, table_input: dict[str, Any]) -> None:
    """The rules AWS applies at CreateTable/UpdateTable of a multi-dialect view; raises the refusal."""
    account, region = backend.account_id, backend.region_name
    definition = table_input.get("ViewDefinition") or {}
    representations = definition.get("Representations") or []
    if not representations:
        raise InvalidInput("ViewDefinition.Representations must name at least one dialect")
    for rep in representations:
        if str(rep.get("Dialect", "")).upper() == "ATHENA" and rep.get("ViewExpandedText"):
            raise InvalidInput("View Expanded Text is not supported.")
        if (str(rep.get("Dialect", "")).upper() == "SPARK"
                and not (table_input.get("StorageDescriptor") or {}).get("Columns")):
            raise InvalidInput("A SPARK representation needs the view's columns in StorageDescriptor.Columns")
    sub_objects = definition.get("SubObjects") or []
    if len(sub_objects) > MAX_SUB_OBJECTS:
        raise InvalidInput(f"A Data Catalog view can reference at most {MAX_SUB_OBJECTS} tables "
                           f"({len(sub_objects)} SubObjects)")
    definer = _check_definer(account, definition.get("Definer"))
    backend.get_database(database)
    # The referenced tables first: with IAM_ALLOWED_PRINCIPALS on both the tables and the view's database
    # (a database created before the account's settings), AWS answers with the tables' message.
    for arn in sub_objects:
        _check_sub_object(backend, definer, parse_sub_object(arn, account))
    if lf.iam_allowed_super_on_database(account, region, database):
        raise InvalidInput(f"Cannot create views in database {database}: it has Super (ALL) permission granted to "
                           "IAMAllowedPrincipals; revoke it first")
    if not lf.holds(lf.database_permissions(account, region, definer, database), "CREATE_TABLE"):
        raise AccessDenied(f"Insufficient Lake Formation permission(s): Required Create Table on {database} "
                           f"(view definer {definer})")


# ------------------------------------------------------------------ asynchronous validation


def _hive_to_athena(hive_type: str) -> str:
    t = hive_type.strip().lower()
    base = t.split("(", 1)[0].split("<", 1)[0]
    return {"string": "varchar", "char": "varchar", "int": "integer", "struct": "row", "float": "real",
            "binary": "varbinary"}.get(base, base)


def _referenced_tables(tree, default_db: str) -> set[tuple[str, str]]:
    from sqlglot import exp

    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    out = set()
    for t in tree.find_all(exp.Table):
        if not isinstance(t.this, exp.Identifier) or (not t.db and t.name.lower() in ctes):
            continue
        out.add(((t.db or default_db).lower(), t.name.lower()))
    return out


def _check_tables(backend, tree, change: ViewChange) -> None:
    from ..executors.athena_exec import QueryError

    wanted = {(s.database.lower(), s.table.lower()) for s in
              (parse_sub_object(a, backend.account_id)
               for a in (change.requested.get("ViewDefinition") or {}).get("SubObjects") or [])}
    got = _referenced_tables(tree, change.database)
    if got != wanted:
        raise QueryError(f"INVALID_VIEW: the SQL references {sorted('.'.join(t) for t in got)} but the view's "
                         f"SubObjects are {sorted('.'.join(t) for t in wanted)}; every dialect must reference "
                         "exactly the SubObjects")


def _validate_athena(backend, change: ViewChange, text: str) -> None:
    from sqlglot import parse_one

    from ..executors import athena_exec

    sql = athena_exec._presto_view_text(text)
    try:
        tree = parse_one(sql, read="trino")
    except Exception as exc:  # noqa: BLE001 - sqlglot ParseError
        raise athena_exec.QueryError(f"SYNTAX_ERROR: {exc}") from None
    _check_tables(backend, tree, change)
    q = athena_exec.LocalQuery(id="view-validation", sql=sql, database=change.database, output_location=None,
                               account_id=backend.account_id, region=backend.region_name,
                               principal=(change.requested.get("ViewDefinition") or {}).get("Definer"))
    columns = athena_exec.view_columns(sql, q)
    declared = [(c["Name"].lower(), _hive_to_athena(c.get("Type", "")))
                for c in (change.requested.get("StorageDescriptor") or {}).get("Columns") or []]
    resolved = [(name.lower(), typ) for name, typ in columns]
    if resolved != declared:
        raise athena_exec.QueryError(f"INVALID_VIEW: the ATHENA SQL yields columns {resolved}, the view declares "
                                     f"{declared} (StorageDescriptor.Columns)")


def _validate_spark(backend, change: ViewChange, text: str) -> None:
    from sqlglot import parse_one

    from ..executors.athena_exec import QueryError

    try:
        tree = parse_one(text, read="spark")
    except Exception as exc:  # noqa: BLE001 - sqlglot ParseError
        raise QueryError(f"PARSE_SYNTAX_ERROR: {exc}") from None
    _check_tables(backend, tree, change)


def _error_of(exc: Exception) -> tuple[str, str]:
    message = str(exc)
    code, sep, _ = message.partition(":")
    return (code if sep and code.isupper() and " " not in code else "VALIDATION_FAILED"), message


def _presto_view(text: str, database: str, columns: list[dict[str, Any]], definition: dict[str, Any]) -> str:
    """Glue's stored form of a validated ATHENA representation."""
    from ..executors import athena_exec

    doc = {"originalSql": athena_exec._presto_view_text(text), "catalog": athena_exec.DEFAULT_CATALOG,
           "schema": database, "columns": [{"name": c["Name"], "type": _hive_to_athena(c.get("Type", ""))}
                                           for c in columns],
           "owner": definition.get("Definer"), "runAsInvoker": False, "properties": {},
           "isProtected": bool(definition.get("IsProtected")), "isMultiDialect": True}
    return f"/* Presto View: {base64.b64encode(json.dumps(doc).encode()).decode()} */"


def _validate(backend, table, change: ViewChange) -> None:
    validators = {"ATHENA": _validate_athena, "SPARK": _validate_spark}
    for v in change.validations:
        validator = validators.get(v.dialect.upper())
        try:
            if validator is None:
                raise ValueError(f"NOT_SUPPORTED: the local endpoint validates ATHENA and SPARK representations, "
                                 f"not {v.dialect}")
            validator(backend, change, v.text)
            v.state = "SUCCESS"
        except Exception as exc:  # every failure is the dialect's verdict
            if not hasattr(exc, "error_type") and not isinstance(exc, ValueError | JsonRESTError):
                log.exception("view %s.%s: %s validation crashed", change.database, change.requested["Name"],
                              v.dialect)
            v.state, v.error = "FAILED", _error_of(exc)
        v.update_time = datetime.now(UTC)
    with _lock:
        failed = [v for v in change.validations if v.state == "FAILED"]
        if failed:
            change.state = "FAILED"
            change.error = (failed[0].error[0],  # type: ignore[index]
                            "; ".join(f"{v.dialect}: {v.error[1]}" for v in failed))  # type: ignore[index]
            log.warning("view %s.%s %s FAILED: %s", change.database, change.requested["Name"], change.action,
                        change.error[1])
        else:
            final = copy.deepcopy(change.requested)
            definition = final["ViewDefinition"]
            for rep in definition.get("Representations") or []:
                if str(rep.get("Dialect", "")).upper() == "ATHENA":
                    rep["ViewOriginalText"] = _presto_view(
                        rep["ViewOriginalText"], change.database,
                        (final.get("StorageDescriptor") or {}).get("Columns") or [], definition)
            if change.action == "CREATE":
                table.versions[str(table._current_version)] = final
            else:
                table.update(final)
            change.state = "SUCCESS"
            log.info("view %s.%s %s SUCCESS", change.database, change.requested["Name"], change.action)
        change.update_time = datetime.now(UTC)


def _start_change(backend, database: str, table, action: str, table_input: dict[str, Any]) -> None:
    caller = getattr(_request, "principal", None) or f"arn:aws:iam::{backend.account_id}:root"
    reps = (table_input.get("ViewDefinition") or {}).get("Representations") or []
    change = ViewChange(action=action, database=database, requested=copy.deepcopy(table_input), requested_by=caller,
                        validations=[Validation(str(r.get("Dialect", "")), r.get("DialectVersion"),
                                                r.get("ViewOriginalText") or "") for r in reps])
    table.localcloud_view_change = change
    _pool.submit(_validate, backend, table, change)


# ------------------------------------------------------------------ moto patches

_orig_create_database = glue_models.GlueBackend.create_database
_orig_delete_database = glue_models.GlueBackend.delete_database
_orig_create_table = glue_models.GlueBackend.create_table
_orig_update_table = glue_models.GlueBackend.update_table
_orig_delete_table = glue_models.GlueBackend.delete_table


def _create_database(self, database_name, database_input, tags=None):
    database = _orig_create_database(self, database_name, database_input, tags)
    lf.apply_database_defaults(self.account_id, self.region_name, database_name, database.input)
    return database


def _delete_database(self, database_name):
    _orig_delete_database(self, database_name)
    lf.drop_grants(self.account_id, self.region_name, database_name)


def _create_table(self, database_name, table_name, table_input, open_table_format_input=None):
    if (lf.enforced() and is_multi_dialect_view(table_input)
            and table_name not in self.get_database(database_name).tables):  # else moto's AlreadyExists
        check_view(self, database_name, table_input)
        # "AWS Glue creates an empty table for the duration of the asynchronous process."
        table = _orig_create_table(self, database_name, table_name, {"Name": table_name}, open_table_format_input)
        _start_change(self, database_name, table, "CREATE", table_input)
        return table
    table = _orig_create_table(self, database_name, table_name, table_input, open_table_format_input)
    if table_input.get("TableType") != "VIRTUAL_VIEW":
        lf.apply_table_defaults(self.account_id, self.region_name, self.get_database(database_name).input,
                                database_name, table_name)
    return table


def _update_table(self, database_name, table_name, table_input):
    if not (lf.enforced() and is_multi_dialect_view(table_input)):
        return _orig_update_table(self, database_name, table_name, table_input)
    table = self.get_table(database_name, table_name)
    previous = getattr(table, "localcloud_view_change", None)
    if previous is not None and previous.state == "IN_PROGRESS":
        raise JsonRESTError("ConcurrentModificationException",
                            f"A {previous.action} of view {database_name}.{table_name} is still IN_PROGRESS")
    check_view(self, database_name, table_input)
    never_created = previous is not None and previous.action == "CREATE" and previous.state != "SUCCESS"
    _start_change(self, database_name, table, "CREATE" if never_created else "UPDATE", table_input)


def _delete_table(self, database_name, table_name):
    _orig_delete_table(self, database_name, table_name)
    lf.drop_grants(self.account_id, self.region_name, database_name, table_name)


def view_text_violations(table_input: dict[str, Any]) -> list[str]:
    """The TableInput's view texts over MAX_VIEW_TEXT, in Glue's wording (paths 1-based, as Glue names them)."""
    fields = [(f"table.{name[0].lower()}{name[1:]}", table_input.get(name))
              for name in ("ViewOriginalText", "ViewExpandedText")]
    for n, rep in enumerate((table_input.get("ViewDefinition") or {}).get("Representations") or [], start=1):
        fields += [(f"table.viewDefinition.representations.{n}.member.{name[0].lower()}{name[1:]}", rep.get(name))
                   for name in ("ViewOriginalText", "ViewExpandedText")]
    return [f"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to "
            f"{MAX_VIEW_TEXT}" for path, text in fields if isinstance(text, str) and len(text) > MAX_VIEW_TEXT]


def _refusing_long_view_texts(method):
    def wrapper(self):
        violations = view_text_violations(self.parameters.get("TableInput") or {})
        if violations:
            count = f"{len(violations)} validation error{'s' if len(violations) > 1 else ''} detected"
            raise JsonRESTError("ValidationException", f"{count}: {'; '.join(violations)}")
        return method(self)

    wrapper.__name__ = method.__name__
    return wrapper


def _with_caller(method):
    def wrapper(self):
        _request.principal = lf.caller_principal(self.headers)
        try:
            return method(self)
        finally:
            _request.principal = None

    wrapper.__name__ = method.__name__
    return wrapper


def get_table(self):
    from moto.core.responses import ActionResult

    params = self.parameters
    table = self.glue_backend.get_table(params.get("DatabaseName"), params.get("Name"))
    body = table.as_dict()
    change = getattr(table, "localcloud_view_change", None)
    if params.get("IncludeStatusDetails") and change is not None:
        with _lock:
            body["Status"] = change.as_status(table.catalog_id)
    return ActionResult({"Table": body})


def apply() -> None:
    glue_models.GlueBackend.create_database = _create_database
    glue_models.GlueBackend.delete_database = _delete_database
    glue_models.GlueBackend.create_table = _create_table
    glue_models.GlueBackend.update_table = _update_table
    glue_models.GlueBackend.delete_table = _delete_table
    for name in ("create_table", "update_table"):
        setattr(glue_responses.GlueResponse, name,
                _refusing_long_view_texts(_with_caller(getattr(glue_responses.GlueResponse, name))))
    glue_responses.GlueResponse.get_table = get_table
