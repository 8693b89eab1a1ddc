"""Lake Formation data cells filters (row, column and cell-level security); moto 5.2.5 has none of them.

moto knows only ListDataCellsFilter (always empty). This module keeps the filters per account and region
on moto's Lake Formation backend, serves Create/Get/List/Update/DeleteDataCellsFilter
(patches/lakeformation.py routes them here), checks grants on a filter, lists them, and tells the local
Athena what a principal may read of a table through its filters.

AWS rules applied (Lake Formation developer guide):
- "Data filters in Lake Formation": a filter belongs to one table; it holds a row filter expression (or
  AllRowsWildcard) and a column list to include (ColumnNames) or exclude (ColumnWildcard); in rows a
  principal may see but columns a filter withholds there, the cells read NULL.
- "PartiQL support in row filter expressions": columns compared with constants only (never with other
  columns), operators `= > < >= <= <> != BETWEEN IN LIKE NOT IS [NOT] NULL`, AND/OR, no functions, fewer
  than 2048 characters, case-sensitive string comparison.
- "Data filtering limitations": applying a filter with a row filter expression needs SELECT with grant
  option on all columns of the table (or a data lake administrator).
- A table that does not exist cannot get a filter (EntityNotFoundException), nor can a filter that does
  not exist be granted.
Several filters granted to one principal on one table read as their union: a row is visible when any of
its filters' row expressions holds, a cell when a filter that holds for the row includes its column.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import JsonRESTError

from . import lakeformation_model as lf

MAX_EXPRESSION = 2048
FILTER_PERMISSIONS = {"SELECT", "DESCRIBE", "DROP"}
_lock = threading.Lock()


class EntityNotFound(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("EntityNotFoundException", message)


class InvalidInput(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("InvalidInputException", message)


class AlreadyExists(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("AlreadyExistsException", message)


class AccessDenied(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


def _store(account: str, region: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(database, table, filter name) -> TableData, kept on moto's backend so a reset forgets them."""
    backend = lf._backend(account, region)
    store = getattr(backend, "localcloud_cells_filters", None)
    if store is None:
        store = backend.localcloud_cells_filters = {}
    return store


def _glue_columns(account: str, region: str, database: str, table: str) -> list[str] | None:
    """The table's columns (data then partition keys, lowercase), None when the table does not exist."""
    from moto.glue.models import glue_backends

    try:
        t = glue_backends[account][region].get_table(database, table).as_dict()
    except Exception:  # noqa: BLE001 - moto raises EntityNotFound/TableNotFound
        return None
    if t.get("TableType") == "VIRTUAL_VIEW" or t.get("ViewDefinition"):
        # "Data filtering limitations": cell-level security is not supported on views.
        raise InvalidInput(f"{database}.{table} is a view: data cells filters apply to tables only")
    cols = (t.get("StorageDescriptor") or {}).get("Columns") or []
    return [c["Name"].lower() for c in [*cols, *(t.get("PartitionKeys") or [])]]


def table_missing(account: str, region: str, database: str, table: str) -> bool:
    from moto.glue.models import glue_backends

    try:
        glue_backends[account][region].get_table(database.lower(), table.lower())
    except Exception:  # noqa: BLE001 - moto raises EntityNotFound/TableNotFound
        return True
    return False


# ------------------------------------------------------------------ row filter expressions


def parse_row_filter(expression: str):
    """The PartiQL row filter as a sqlglot tree; InvalidInput when Lake Formation would refuse it."""
    import sqlglot
    from sqlglot import exp

    if len(expression) >= MAX_EXPRESSION:
        raise InvalidInput(f"Row filter expression must be shorter than {MAX_EXPRESSION} characters")
    try:
        tree = sqlglot.parse_one(expression, read="trino")
    except Exception as exc:  # noqa: BLE001 - sqlglot ParseError/TokenError
        raise InvalidInput(f"Unsupported row filter expression {expression!r}: {exc}") from None
    comparisons = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.Is, exp.In, exp.Between)
    allowed = (*comparisons, exp.And, exp.Or, exp.Not, exp.Paren, exp.Column, exp.Identifier, exp.Literal,
               exp.Boolean, exp.Null, exp.Neg, exp.Dot)
    for node in tree.walk():
        if not isinstance(node, allowed):
            raise InvalidInput(f"Unsupported row filter expression {expression!r}: {type(node).__name__} "
                               f"({node.sql('trino')}) is not allowed (columns compared with constants only)")
        if isinstance(node, comparisons):
            operands = [node.this] + [v for k, v in node.args.items() if k != "this" and isinstance(v, exp.Expression)]
            operands += list(node.expressions or [])
            if sum(1 for o in operands if isinstance(o, exp.Column)) != 1 or not isinstance(node.this, exp.Column):
                raise InvalidInput(f"Unsupported row filter expression {expression!r}: {node.sql('trino')} must "
                                   f"compare one column with constants")
    if isinstance(tree, exp.Column | exp.Literal):
        raise InvalidInput(f"Unsupported row filter expression {expression!r}: not a predicate")
    return tree


def _row_columns(tree) -> set[str]:
    from sqlglot import exp

    return {c.name.lower() for c in tree.find_all(exp.Column)}


# ------------------------------------------------------------------ the filters


def _validate(account: str, region: str, data: dict[str, Any]) -> dict[str, Any]:
    """TableData as stored (names lowercased like Glue's), after the checks CreateDataCellsFilter makes."""
    for key in ("DatabaseName", "TableName", "Name"):
        if not data.get(key):
            raise InvalidInput(f"TableData.{key} is required")
    if data.get("TableCatalogId") not in (None, account):
        raise InvalidInput(f"TableCatalogId {data['TableCatalogId']} is not this account ({account})")
    database, table = data["DatabaseName"].lower(), data["TableName"].lower()
    columns = _glue_columns(account, region, database, table)
    if columns is None:
        raise EntityNotFound(f"Table {database}.{table} not found.")
    if ("ColumnNames" in data) == ("ColumnWildcard" in data):
        raise InvalidInput("Exactly one of ColumnNames and ColumnWildcard must be given")
    named = [c.lower() for c in (data.get("ColumnNames")
                                 or (data.get("ColumnWildcard") or {}).get("ExcludedColumnNames") or [])]
    unknown = sorted(set(named) - set(columns))
    if unknown:
        raise InvalidInput(f"Columns {unknown} are not columns of {database}.{table}")
    if "ColumnNames" in data and not named:
        raise InvalidInput("ColumnNames must name at least one column")
    row = data.get("RowFilter") or {}
    if ("FilterExpression" in row) == ("AllRowsWildcard" in row):
        raise InvalidInput("RowFilter needs exactly one of FilterExpression and AllRowsWildcard")
    if "FilterExpression" in row:
        missing = sorted(_row_columns(parse_row_filter(row["FilterExpression"])) - set(columns))
        if missing:
            raise InvalidInput(f"Row filter expression names columns {missing} that {database}.{table} lacks")
    stored = copy.deepcopy(data)
    stored.update(TableCatalogId=account, DatabaseName=database, TableName=table)
    if "ColumnNames" in stored:
        stored["ColumnNames"] = named
    else:
        stored["ColumnWildcard"] = {"ExcludedColumnNames": named}
    return stored


def _require_grantor(account: str, region: str, principal: str | None, database: str, table: str) -> None:
    """Data filtering limitations: a filter is applied by a data lake administrator or a principal holding
    SELECT with grant option on all columns of the table."""
    if principal is None or not lf.enforced():
        return
    admins = lf.settings(account, region).get("DataLakeAdmins") or []
    if any(a.get("DataLakePrincipalIdentifier") == principal for a in admins):
        return
    _, grantable = lf.table_permissions(account, region, principal, database, table)
    if not lf.holds(grantable, "SELECT"):
        raise AccessDenied(f"Insufficient Lake Formation permission(s) on {database}.{table}: data filters need "
                           f"SELECT with grant option on all columns of the table")


def create(account: str, region: str, principal: str | None, data: dict[str, Any]) -> None:
    stored = _validate(account, region, data)
    key = (stored["DatabaseName"], stored["TableName"], stored["Name"])
    _require_grantor(account, region, principal, key[0], key[1])
    with _lock:
        store = _store(account, region)
        if key in store:
            raise AlreadyExists(f"Data cells filter {key[2]} already exists on {key[0]}.{key[1]}")
        stored["VersionId"] = "1"
        store[key] = stored


def update(account: str, region: str, principal: str | None, data: dict[str, Any]) -> None:
    stored = _validate(account, region, data)
    key = (stored["DatabaseName"], stored["TableName"], stored["Name"])
    _require_grantor(account, region, principal, key[0], key[1])
    with _lock:
        store = _store(account, region)
        if key not in store:
            raise EntityNotFound(f"Data cells filter {key[2]} not found on {key[0]}.{key[1]}")
        stored["VersionId"] = str(int(store[key].get("VersionId", "1")) + 1)
        store[key] = stored


def _key(params: dict[str, Any]) -> tuple[str, str, str]:
    return (str(params.get("DatabaseName") or "").lower(), str(params.get("TableName") or "").lower(),
            str(params.get("Name") or ""))


def get(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    key = _key(params)
    with _lock:
        found = _store(account, region).get(key)
    if found is None:
        raise EntityNotFound(f"Data cells filter {key[2]} not found on {key[0]}.{key[1]}")
    return copy.deepcopy(found)


def list_filters(account: str, region: str, table: dict[str, Any] | None) -> list[dict[str, Any]]:
    with _lock:
        filters = [copy.deepcopy(f) for f in _store(account, region).values()]
    if table:
        db, name = str(table.get("DatabaseName") or "").lower(), str(table.get("Name") or "").lower()
        filters = [f for f in filters if f["DatabaseName"] == db and f["TableName"] == name]
    return sorted(filters, key=lambda f: (f["DatabaseName"], f["TableName"], f["Name"]))


def delete(account: str, region: str, principal: str | None, params: dict[str, Any]) -> None:
    key = _key(params)
    _require_grantor(account, region, principal, key[0], key[1])
    with _lock:
        if _store(account, region).pop(key, None) is None:
            raise EntityNotFound(f"Data cells filter {key[2]} not found on {key[0]}.{key[1]}")
    catalog = lf._backend(account, region).grants.get(account)
    for p in list(catalog.permissions if catalog else []):
        if _filter_key(p.resource) == key:
            catalog.permissions.discard(p)


def drop_table(account: str, region: str, database: str, table: str | None = None) -> None:
    """A deleted table (or database) takes its filters with it."""
    with _lock:
        store = _store(account, region)
        for key in [k for k in store if k[0] == database and (table is None or k[1] == table)]:
            del store[key]


# ------------------------------------------------------------------ grants on filters


def _filter_key(resource: dict[str, Any]) -> tuple[str, str, str] | None:
    f = resource.get("DataCellsFilter")
    return None if f is None else _key(f)


def check_grant(account: str, region: str, resource: dict[str, Any], permissions: list[str]) -> None:
    """GrantPermissions on a DataCellsFilter: it must exist; only SELECT, DESCRIBE and DROP apply to it."""
    key = _filter_key(resource)
    if key is None:
        return
    with _lock:
        exists = key in _store(account, region)
    if not exists:
        raise EntityNotFound(f"Data cells filter {key[2]} not found on {key[0]}.{key[1]}")
    other = sorted(set(permissions or []) - FILTER_PERMISSIONS)
    if other:
        raise InvalidInput(f"Permissions {other} do not apply to a data cells filter ({sorted(FILTER_PERMISSIONS)})")


def grants_on_filter(account: str, region: str, resource: dict[str, Any]) -> list[dict[str, Any]]:
    """ListPermissions with a DataCellsFilter resource (moto matches none)."""
    key = _filter_key(resource)
    catalog = lf._backend(account, region).grants.get(account)
    return [p.to_external_form() for p in (catalog.permissions if catalog else []) if _filter_key(p.resource) == key]


# ------------------------------------------------------------------ reads


@dataclass(frozen=True)
class CellFilter:
    """What one filter lets its grantees read: the row predicate (None = all rows) and visible columns."""
    name: str
    row: Any
    columns: frozenset[str]


def _selectable(account: str, region: str, principal: str, database: str, table: str) -> set[str]:
    """Names of the filters on database.table on which `principal` holds SELECT."""
    catalog = lf._backend(account, region).grants.get(account)
    return {key[2] for p in (catalog.permissions if catalog else [])
            if (p.principal or {}).get("DataLakePrincipalIdentifier") == principal
            and lf.holds(set(p.permissions or []), "SELECT")
            and (key := _filter_key(p.resource)) is not None and key[:2] == (database, table)}


def holds_filter_select(account: str, region: str, principal: str, database: str, table: str) -> bool:
    return bool(_selectable(account, region, principal, database, table))


def filters_for(account: str, region: str, principal: str, database: str, table: str,
                table_columns: list[str]) -> list[CellFilter]:
    """The filters on database.table on which `principal` holds SELECT (empty: none)."""
    names = _selectable(account, region, principal, database, table)
    out = []
    with _lock:
        store = _store(account, region)
        defined = [copy.deepcopy(store[(database, table, n)]) for n in sorted(names) if (database, table, n) in store]
    for f in defined:
        row = (f.get("RowFilter") or {}).get("FilterExpression")
        if "ColumnNames" in f:
            visible = set(f["ColumnNames"])
        else:
            visible = set(table_columns) - set(f["ColumnWildcard"]["ExcludedColumnNames"])
        out.append(CellFilter(f["Name"], parse_row_filter(row) if row is not None else None,
                              frozenset(c for c in table_columns if c in visible)))
    return out


def filtered_select(source, table_columns: list[str], filters: list[CellFilter]):
    """SELECT over `source` (a sqlglot table) returning what `filters` let through: rows any filter admits,
    the columns any filter shows (in table order), NULL in a cell no filter admitting its row shows."""
    from sqlglot import exp

    def predicate(fs: list[CellFilter]):
        if any(f.row is None for f in fs):
            return None
        return exp.or_(*[exp.paren(f.row.copy(), copy=False) for f in fs])

    projections = []
    for col in table_columns:
        showing = [f for f in filters if col in f.columns]
        if not showing:
            continue
        ref = exp.column(col, quoted=True)
        cond = predicate(showing) if len(showing) < len(filters) else None
        if cond is None:
            projections.append(ref)
        else:
            projections.append(exp.alias_(exp.Case(ifs=[exp.If(this=cond, true=ref)]), col, quoted=True))
    select = exp.select(*projections).from_(source)
    where = predicate(filters)
    return select.where(where) if where is not None else select
