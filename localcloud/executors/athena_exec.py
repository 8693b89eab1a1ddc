"""Athena queries executed for real: Trino SQL (engine 3) -> sqlglot -> DuckDB over Iceberg tables.

Tables resolve through the endpoint's Glue Data Catalog:
- Iceberg tables (Parameters.metadata_location, a local path or file:// URI) -> DuckDB `iceberg_scan`;
- Glue Data Catalog views (TableType VIRTUAL_VIEW) -> their ATHENA representation's ViewOriginalText
  (a `/* Presto View: <base64> */` text is decoded), else the table's ViewOriginalText; views are inlined
  as subqueries, recursively.
- `"s3tablescatalog/<bucket>".ns.table` (S3 Tables) -> ns.table of the same Glue Data Catalog, once the
  table bucket exists (see _check_table_bucket).
Lake Formation on reads: the query runs as the calling principal (LocalQuery.principal; None = the endpoint's
admin keys, which read everything). It needs SELECT on every table and view it names; a view's own tables
are read with its definer's rights (ViewDefinition.Definer), as Athena does for Glue Data Catalog views.
A table read through data cells filters only (localcloud.lakeformation_cells) is replaced by a subquery
with their row filters and visible columns.
A view whose creation has not succeeded (Glue's asynchronous CREATE still running, or FAILED) does not exist.
The query is then qualified and type-annotated by sqlglot with the real column types (so Trino's integer
division, `SELECT *` and unnamed columns behave as on Athena) and generated as DuckDB SQL. Anything that
cannot be translated or run fails the query with a StateChangeReason; nothing is silently approximated.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import logging
import math
import re
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .. import config

log = logging.getLogger("localcloud.athena")

DEFAULT_CATALOG = "awsdatacatalog"
S3TABLES_CATALOG_PREFIX = "s3tablescatalog/"
MAX_VIEW_DEPTH = 10
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="athena")
_queries: dict[str, LocalQuery] = {}
_queries_lock = threading.Lock()
_duck_lock = threading.Lock()
_duck = None


class QueryError(Exception):
    """A user error: the query FAILS with this message (Athena's StateChangeReason)."""

    def __init__(self, message: str, error_type: int = 1006):
        super().__init__(message)
        self.error_type = error_type  # AthenaError.ErrorType (1006 = generic user error)


@dataclass
class LocalQuery:
    id: str
    sql: str
    database: str | None
    output_location: str | None
    account_id: str
    region: str
    state: str = "QUEUED"
    reason: str | None = None
    error_type: int | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    statement_type: str = "DML"
    rows_returned: bool = True
    principal: str | None = None  # the caller's IAM principal ARN; None = admin credentials


def get(exec_id: str) -> LocalQuery | None:
    with _queries_lock:
        return _queries.get(exec_id)


def submit(query: LocalQuery, ddl_handled: bool) -> None:
    with _queries_lock:
        _queries[query.id] = query
    _pool.submit(_run, query, ddl_handled)


# ------------------------------------------------------------------ DuckDB


def _extension_file(package: str, name: str) -> Path:
    import importlib

    import duckdb

    mod = importlib.import_module(package)
    return Path(mod.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


def _duckdb():
    """One in-memory DuckDB with the iceberg extension (installed offline from its PyPI package)."""
    global _duck
    with _duck_lock:
        if _duck is None:
            import duckdb

            ext_dir = config.current().state_dir / "athena" / "duckdb_extensions"
            ext_dir.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False,
                                         "autoload_known_extensions": True})
            for package, name in (("duckdb_extension_avro", "avro"), ("duckdb_extension_iceberg", "iceberg")):
                try:
                    con.execute(f"LOAD {name}")
                except duckdb.Error:
                    # Not installed, or an install cut short (a *.tmp-* file left): install again.
                    con.execute(f"FORCE INSTALL '{_extension_file(package, name)}'")
                    con.execute(f"LOAD {name}")
            _duck = con
        return _duck.cursor()


def warm_up() -> None:
    """Install/load the iceberg extension ahead of the first query (runs in the background at start)."""
    try:
        _duckdb().close()
    except Exception:
        log.exception("DuckDB warm-up failed")


# ------------------------------------------------------------------ catalog resolution


def _local_path(location: str) -> str:
    parsed = urlparse(location)
    if parsed.scheme == "file":  # file:///x and Iceberg's (Hadoop's) file:/x
        return unquote(parsed.path)
    if parsed.scheme:
        raise QueryError(f"Iceberg metadata_location {location} is not a local path or file:// URI; the local "
                         f"Athena reads only tables on the local disk")
    return location


def _glue_table(account_id: str, region: str, db: str, name: str) -> dict[str, Any]:
    from moto.glue.models import glue_backends

    backend = glue_backends[account_id][region]
    try:
        table = backend.get_table(db, name)
    except Exception:  # noqa: BLE001 - moto raises EntityNotFound/TableNotFound
        try:
            backend.get_database(db)
        except Exception:  # noqa: BLE001
            raise QueryError(f"SCHEMA_NOT_FOUND: Schema '{db}' does not exist", 1006) from None
        raise QueryError(f"TABLE_NOT_FOUND: Table '{DEFAULT_CATALOG}.{db}.{name}' does not exist", 1006) from None
    change = getattr(table, "localcloud_view_change", None)
    if change is not None and change.action == "CREATE" and change.state != "SUCCESS":
        # Lake Formation "Validating the view generation status": a CREATE that has not succeeded leaves
        # an empty table, and querying it fails because the view does not exist yet.
        raise QueryError(f"TABLE_NOT_FOUND: Table '{DEFAULT_CATALOG}.{db}.{name}' does not exist (its view "
                         f"creation is {change.state})", 1006)
    return table.as_dict()


def _check_select(q: LocalQuery, reader: str | None, db: str, name: str) -> bool:
    """Lake Formation: the reader needs SELECT on the table or view (DESCRIBE alone is not enough), or SELECT
    on data cells filters of the table. True: it reads every cell; False: only what its filters let through."""
    if reader is None:
        return True
    from .. import lakeformation_cells as cells
    from .. import lakeformation_model as lf

    if lf.can_select(q.account_id, q.region, reader, db, name):
        return True
    if cells.holds_filter_select(q.account_id, q.region, reader, db, name):
        return False
    raise QueryError(f"PERMISSION_DENIED: Insufficient Lake Formation permission(s) on {db}.{name} "
                     f"(principal {reader} has no SELECT on it)", 1006)


def _check_table_bucket(q: LocalQuery, bucket: str) -> None:
    """`"s3tablescatalog/<bucket>".ns.table`: the bucket must exist in the endpoint's S3 Tables. Its tables
    are read from the Glue Data Catalog, where the local Glue runner registers S3 Tables catalogs' tables
    (the endpoint has no federated catalogs), so ns.table resolves as in the default catalog."""
    from moto.s3tables.models import s3tables_backends

    backend = s3tables_backends[q.account_id][q.region]
    if not any(b.name == bucket for b in backend.table_buckets.values()):
        raise QueryError(f"CATALOG_NOT_FOUND: Catalog '{S3TABLES_CATALOG_PREFIX}{bucket}' does not exist "
                         f"(no S3 table bucket named {bucket!r})")


def view_sql(table: dict[str, Any]) -> str | None:
    """The Trino SQL of a Glue view, or None when the table is not a view."""
    definition = table.get("ViewDefinition") or {}
    for rep in definition.get("Representations") or []:
        if str(rep.get("Dialect", "")).upper() == "ATHENA" and rep.get("ViewOriginalText"):
            return _presto_view_text(rep["ViewOriginalText"])
    if table.get("TableType") == "VIRTUAL_VIEW" or table.get("ViewOriginalText"):
        text = table.get("ViewOriginalText") or table.get("ViewExpandedText")
        if not text:
            raise QueryError(f"view {table.get('DatabaseName')}.{table.get('Name')} has no ATHENA representation "
                             f"and no ViewOriginalText")
        return _presto_view_text(text)
    return None


def _presto_view_text(text: str) -> str:
    m = re.fullmatch(r"\s*/\*\s*Presto View:\s*([A-Za-z0-9+/=\s]+?)\s*\*/\s*", text)
    if m:
        return json.loads(base64.b64decode(m.group(1)))["originalSql"]
    return text


@dataclass
class _Resolved:
    placeholders: dict[str, str] = field(default_factory=dict)  # placeholder table name -> metadata path
    # placeholder -> (reader, database, table) read through the reader's Lake Formation data cells filters
    filtered: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def _resolve(tree, default_db: str | None, q: LocalQuery, res: _Resolved, depth: int = 0,
             reader: str | None = None):
    """Replace Glue tables by placeholders (Iceberg) or inlined subqueries (views), in place; `reader` is
    whose Lake Formation permissions apply (the caller, then each view's definer inside it)."""
    from sqlglot import exp, parse_one

    if depth > MAX_VIEW_DEPTH:
        raise QueryError("views nested too deeply (or a view refers to itself)")
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # table functions, UNNEST, ...
        name = table.name.lower()
        db = (table.db or "").lower()
        catalog = (table.catalog or "").lower()
        if not db and name in cte_names:
            continue
        s3tables = catalog.startswith(S3TABLES_CATALOG_PREFIX)
        if s3tables:
            _check_table_bucket(q, catalog[len(S3TABLES_CATALOG_PREFIX):])
        elif catalog and catalog != DEFAULT_CATALOG:
            raise QueryError(f"CATALOG_NOT_FOUND: Catalog '{catalog}' does not exist (the local Athena knows only "
                             f"{DEFAULT_CATALOG} and {S3TABLES_CATALOG_PREFIX}<table bucket>)")
        db = db or (default_db or "").lower()
        if not db:
            raise QueryError("SCHEMA_NOT_FOUND: no database given (QueryExecutionContext.Database or db.table)")
        if "$" in name:
            raise QueryError(f"NOT_SUPPORTED: Iceberg metadata table {db}.{name} is not supported locally")
        glue_table = _glue_table(q.account_id, q.region, db, name)
        # S3 Tables catalogs' grants live in their federated catalog (not modelled)
        every_cell = s3tables or _check_select(q, reader, db, name)
        alias = table.alias or name
        version = table.args.get("version")
        sql = view_sql(glue_table)
        if sql is not None:
            if version is not None:
                raise QueryError(f"NOT_SUPPORTED: time travel on view {db}.{name}")
            try:
                view_tree = parse_one(sql, read="trino")
            except Exception as exc:  # noqa: BLE001
                raise QueryError(f"view {db}.{name}: cannot parse its SQL: {exc}") from None
            definer = (glue_table.get("ViewDefinition") or {}).get("Definer")
            _resolve(view_tree, db, q, res, depth + 1, definer or reader)
            table.replace(exp.Subquery(this=view_tree, alias=exp.TableAlias(this=exp.to_identifier(alias))))
            continue
        params = {k.lower(): v for k, v in (glue_table.get("Parameters") or {}).items()}
        location = params.get("metadata_location")
        if str(params.get("table_type", "")).upper() != "ICEBERG" or not location:
            raise QueryError(
                f"NOT_SUPPORTED: {db}.{name} is not an Iceberg table with a metadata_location "
                f"(table_type={params.get('table_type')!r}); the local Athena reads Iceberg tables and views only")
        path = _local_path(location)
        if not Path(path).exists():
            raise QueryError(f"ICEBERG_INVALID_METADATA: metadata file {location} of {db}.{name} does not exist")
        placeholder = f"t{len(res.placeholders)}"
        res.placeholders[placeholder] = path
        if not every_cell:
            res.filtered[placeholder] = (reader, db, name)
        new = exp.Table(this=exp.to_identifier(placeholder), db=exp.to_identifier("__lc"),
                        alias=exp.TableAlias(this=exp.to_identifier(alias)))
        if version is not None:
            new.set("version", version)
        table.replace(new)


def _iceberg_scan(path: str, version) -> Any:
    from sqlglot import exp

    args = [exp.Literal.string(path)]
    if version is not None:
        kind = str(version.name).upper()
        value = version.expression
        if kind == "VERSION" and isinstance(value, exp.Literal) and not value.is_string:
            args.append(exp.EQ(this=exp.column("snapshot_from_id"), expression=value))
        elif kind == "TIMESTAMP":
            args.append(exp.EQ(this=exp.column("snapshot_from_timestamp"),
                               expression=exp.cast(value, exp.DataType.build("timestamp"))))
        else:
            raise QueryError(f"NOT_SUPPORTED: time travel {version.sql('trino')}")
    return exp.Anonymous(this="iceberg_scan", expressions=args)


def translate(sql: str, q: LocalQuery, cursor) -> str:
    """Trino SQL -> DuckDB SQL with the Glue catalog resolved."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, OptimizeError, ParseError
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    try:
        statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
    except ParseError as exc:
        raise QueryError(f"SYNTAX_ERROR: {exc}", 1004) from None
    if len(statements) != 1:
        raise QueryError("Only one sql statement is allowed.", 1004)
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise QueryError(f"NOT_SUPPORTED: the local Athena runs queries (SELECT/WITH/VALUES) only, "
                         f"not {type(tree).__name__.upper()} statements")
    res = _Resolved()
    _resolve(tree, q.database, q, res, reader=q.principal)
    schema: dict[str, dict[str, dict[str, str]]] = {"__lc": {}}
    for placeholder, path in res.placeholders.items():
        try:
            described = cursor.execute(f"DESCRIBE SELECT * FROM iceberg_scan('{_sq(path)}')").fetchall()
        except Exception as exc:  # noqa: BLE001
            raise QueryError(f"ICEBERG_CANNOT_OPEN: {path}: {exc}") from None
        schema["__lc"][placeholder] = {row[0].lower(): row[1] for row in described}
    _apply_cell_filters(tree, res, q, schema["__lc"])
    mapping = MappingSchema(schema if schema["__lc"] else None, dialect="duckdb")
    # Athena names unnamed result columns _col0, _col1, ... (sqlglot's qualify names them _col_0).
    q.unnamed_positions = [i for i, p in enumerate(getattr(tree, "selects", []))
                           if not isinstance(p, exp.Alias | exp.Column | exp.Star)]
    try:
        tree = qualify(tree, schema=mapping, dialect="trino", validate_qualify_columns=True,
                       quote_identifiers=True, identify=False)
        tree = annotate_types(tree, schema=mapping, dialect="trino")
    except OptimizeError as exc:
        raise QueryError(f"COLUMN_NOT_FOUND: {exc}") from None
    for table in list(tree.find_all(exp.Table)):
        if table.db == "__lc" and table.name in res.placeholders:
            table.set("this", _iceberg_scan(res.placeholders[table.name], table.args.get("version")))
            table.set("db", None)
            table.set("version", None)
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except Exception as exc:  # noqa: BLE001 - sqlglot UnsupportedError
        raise QueryError(f"NOT_SUPPORTED: cannot translate to the local engine: {exc}") from None


def _apply_cell_filters(tree, res: _Resolved, q: LocalQuery, columns: dict[str, dict[str, str]]) -> None:
    """A table the reader holds only data cells filters on becomes a subquery returning what they let
    through (Lake Formation "Data filters in Lake Formation"): the columns they withhold do not exist for
    the query (SELECT * omits them, naming one is COLUMN_NOT_FOUND), rows outside them are not read."""
    from sqlglot import exp

    from .. import lakeformation_cells as cells

    for table in list(tree.find_all(exp.Table)):
        if table.db != "__lc" or table.name not in res.filtered:
            continue
        reader, db, name = res.filtered[table.name]
        table_columns = list(columns[table.name])
        filters = cells.filters_for(q.account_id, q.region, reader, db, name, table_columns)
        if not filters or not any(f.columns for f in filters):
            raise QueryError(f"PERMISSION_DENIED: Insufficient Lake Formation permission(s) on {db}.{name} "
                             f"(principal {reader} has no SELECT on it)", 1006)
        source = exp.Table(this=exp.to_identifier(table.name), db=exp.to_identifier("__lc"))
        if table.args.get("version") is not None:
            source.set("version", table.args["version"])
        alias = table.alias or name
        table.replace(exp.Subquery(this=cells.filtered_select(source, table_columns, filters),
                                   alias=exp.TableAlias(this=exp.to_identifier(alias))))


def view_columns(sql: str, q: LocalQuery) -> list[tuple[str, str]]:
    """Glue's ATHENA-dialect view validation: (name, Athena type) of each column the Trino text yields,
    translated and resolved as a query (raises QueryError as the query would fail)."""
    cursor = _duckdb()
    try:
        duck_sql = translate(sql, q, cursor)
        try:
            described = cursor.execute(f"DESCRIBE {duck_sql}").fetchall()
        except Exception as exc:  # noqa: BLE001 - DuckDB errors are the view's errors
            raise QueryError(f"{_duck_error_kind(exc)}: {exc}") from None
    finally:
        cursor.close()
    unnamed = set(getattr(q, "unnamed_positions", []))
    return [(f"_col{i}" if i in unnamed and re.fullmatch(r"_col_\d+", row[0]) else row[0], athena_type(row[1])[0])
            for i, row in enumerate(described)]


def _sq(text: str) -> str:
    return text.replace("'", "''")


# ------------------------------------------------------------------ types and values


def athena_type(duck_type: Any) -> tuple[str, int, int]:
    """(Athena type name, precision, scale) for a DuckDB column type."""
    t = str(duck_type).upper()
    simple = {
        "BOOLEAN": ("boolean", 0, 0), "TINYINT": ("tinyint", 3, 0), "SMALLINT": ("smallint", 5, 0),
        "INTEGER": ("integer", 10, 0), "BIGINT": ("bigint", 19, 0), "HUGEINT": ("decimal", 38, 0),
        "UTINYINT": ("smallint", 5, 0), "USMALLINT": ("integer", 10, 0), "UINTEGER": ("bigint", 19, 0),
        "UBIGINT": ("decimal", 20, 0), "FLOAT": ("real", 17, 0), "DOUBLE": ("double", 17, 0),
        "VARCHAR": ("varchar", 2147483647, 0), "DATE": ("date", 0, 0), "TIME": ("time", 3, 0),
        "TIMESTAMP": ("timestamp", 3, 0), "TIMESTAMP_NS": ("timestamp", 3, 0), "TIMESTAMP_MS": ("timestamp", 3, 0),
        "TIMESTAMP_S": ("timestamp", 3, 0), "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3, 0),
        "BLOB": ("varbinary", 1073741824, 0), "UUID": ("uuid", 0, 0), "JSON": ("json", 0, 0),
        "INTERVAL": ("interval day to second", 0, 0), '"NULL"': ("unknown", 0, 0), "NULL": ("unknown", 0, 0),
    }
    if t in simple:
        return simple[t]
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if m:
        return "decimal", int(m.group(1)), int(m.group(2))
    if t.endswith("[]") or re.search(r"\[\d+\]$", t):
        return "array", 0, 0
    if t.startswith("STRUCT"):
        return "row", 0, 0
    if t.startswith("MAP"):
        return "map", 0, 0
    return t.lower(), 0, 0


def _shortest(x: float, single: bool) -> float:
    if not single:
        return x
    for digits in range(1, 10):
        candidate = float(f"{x:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == x:
            return candidate
    return x


def _java_double(x: float, single: bool = False) -> str:
    """Java's Double.toString/Float.toString, which is how Athena renders double and real values."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    value = _shortest(x, single)
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    for precision in range(17):
        candidate = f"{value:.{precision}e}"
        if _shortest(float(candidate), single) == value:
            break
    mantissa, _, exponent = candidate.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def format_value(v: Any, athena_t: str) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _java_double(v, single=athena_t == "real")
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        text = v.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if v.tzinfo is not None:
            text += " UTC" if v.utcoffset() == dt.timedelta(0) else v.strftime(" %z")
        return text
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S.%f")[:-3]
    if isinstance(v, bytes | bytearray | memoryview):
        return " ".join(f"{b:02x}" for b in bytes(v))
    if isinstance(v, list | tuple):
        return "[" + ", ".join("null" if x is None else format_value(x, "") for x in v) + "]"
    if isinstance(v, dict):
        if set(v.keys()) == {"key", "value"} and isinstance(v["key"], list):  # DuckDB MAP as dict of lists
            v = dict(zip(v["key"], v["value"], strict=False))
        return "{" + ", ".join(f"{k}={'null' if x is None else format_value(x, '')}" for k, x in v.items()) + "}"
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dt.timedelta):
        total = v.total_seconds()
        days, rem = divmod(abs(total), 86400)
        hours, rem = divmod(rem, 3600)
        minutes, seconds = divmod(rem, 60)
        sign = "-" if total < 0 else ""
        return f"{sign}{int(days)} {int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"
    return str(v)


# ------------------------------------------------------------------ execution


def _run(q: LocalQuery, ddl_handled: bool) -> None:
    q.started = time.time()
    q.state = "RUNNING"
    try:
        if ddl_handled:
            q.statement_type = "DDL"
            q.rows_returned = False
        else:
            cursor = _duckdb()
            try:
                duck_sql = translate(q.sql, q, cursor)
                log.info("athena %s: %s", q.id, duck_sql)
                try:
                    rel = cursor.sql(duck_sql)
                    names, types = rel.columns, rel.types
                    rows = rel.fetchall()
                except Exception as exc:  # noqa: BLE001 - DuckDB errors are the query's errors
                    raise QueryError(f"{_duck_error_kind(exc)}: {exc}") from None
            finally:
                cursor.close()
            unnamed = set(getattr(q, "unnamed_positions", []))
            names = [f"_col{i}" if i in unnamed and re.fullmatch(r"_col_\d+", n) else n for i, n in enumerate(names)]
            columns = []
            for name, typ in zip(names, types, strict=True):
                athena_t, precision, scale = athena_type(typ)
                columns.append({"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name,
                                "Label": name, "Type": athena_t, "Precision": precision, "Scale": scale,
                                "Nullable": "UNKNOWN", "CaseSensitive": athena_t in ("varchar", "char")})
            q.columns = columns
            q.rows = [[format_value(v, c["Type"]) for v, c in zip(row, columns, strict=True)] for row in rows]
        if q.output_location:
            _write_csv(q)
        q.state = "CANCELLED" if getattr(q, "cancelled", False) else "SUCCEEDED"
    except QueryError as exc:
        q.state, q.reason, q.error_type = "FAILED", str(exc), exc.error_type
        if getattr(q, "cancelled", False):
            q.state = "CANCELLED"
        log.warning("athena %s FAILED: %s", q.id, exc)
    except Exception as exc:
        log.exception("athena %s crashed", q.id)
        q.state, q.reason, q.error_type = "FAILED", f"INTERNAL_ERROR (local engine): {type(exc).__name__}: {exc}", 1
    finally:
        q.completed = time.time()


def _duck_error_kind(exc: Exception) -> str:
    name = type(exc).__name__
    return {"CatalogException": "FUNCTION_OR_OBJECT_NOT_FOUND", "BinderException": "TYPE_MISMATCH_OR_BINDING",
            "ConversionException": "INVALID_CAST_ARGUMENT", "InvalidInputException": "INVALID_INPUT",
            "ParserException": "SYNTAX_ERROR", "OutOfRangeException": "NUMERIC_VALUE_OUT_OF_RANGE",
            "NotImplementedException": "NOT_SUPPORTED"}.get(name, "GENERIC_INTERNAL_ERROR")


def _csv_field(v: str | None) -> str:
    return "" if v is None else '"' + v.replace('"', '""') + '"'


def _write_csv(q: LocalQuery) -> None:
    from moto.s3.models import s3_backends

    parsed = urlparse(q.output_location)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise QueryError(f"output location {q.output_location} is not an s3:// URI")
    buf = io.StringIO()
    if q.rows_returned:
        buf.write(",".join(_csv_field(c["Name"]) for c in q.columns) + "\n")
        for row in q.rows:
            buf.write(",".join(_csv_field(v) for v in row) + "\n")
    backend = s3_backends[q.account_id]["aws"]
    try:
        backend.get_bucket(parsed.netloc)
    except Exception:  # noqa: BLE001
        raise QueryError(f"Unable to verify/create output bucket {parsed.netloc}", 1) from None
    backend.put_object(parsed.netloc, parsed.path.lstrip("/"), buf.getvalue().encode("utf-8"))


def new_id() -> str:
    return str(uuid.uuid4())
