"""Keep the local Iceberg catalogs and the endpoint's Glue Data Catalog in step.

On AWS a GlueCatalog commit *is* a Glue ``UpdateTable`` (``metadata_location`` moves to the new
metadata file). Locally Spark commits to a JDBC/SQLite catalog, so:

* before a run, every Iceberg table in Glue whose ``metadata_location`` the local catalog lacks is
  registered into it, and every Glue database exists as a namespace (Glue is the source of truth;
  done inside the driver, through Iceberg's own catalog API, see driver.py);
* after a run (succeeded, failed or timed out), every table whose local pointer differs from Glue's
  is written to Glue as Iceberg's GlueCatalog writes it: ``TableType=EXTERNAL_TABLE``,
  ``Parameters.table_type=ICEBERG``, ``metadata_location``, ``previous_metadata_location``,
  ``StorageDescriptor.Location`` and ``Columns`` with Hive type names; new namespaces become Glue
  databases and tables the run dropped are deleted from Glue.

Glue calls are made as the job's role. A database that is a namespace of an S3 Tables table bucket the
job reaches through a federated catalog (`glue.id=<account>:s3tablescatalog/<bucket>`, or an
S3TablesCatalog on the bucket's ARN) is addressed with that child catalog's `CatalogId`, as Iceberg's
GlueCatalog does on AWS, so the role is authorized on the federated ARNs (catalog/s3tablescatalog/<bucket>,
database/s3tablescatalog/<bucket>/<db>, table/...); the endpoint keeps those tables in its one catalog.

The local catalog is read straight from its SQLite file (in WAL mode, so readers never block a
commit): that works even when the run's JVM was killed, and Iceberg's JDBC catalog schema (tables ``iceberg_tables`` and
``iceberg_namespace_properties``) is part of its documented on-disk format.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import logging
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

log = logging.getLogger("localcloud.glue.catalog_sync")

ICEBERG = "ICEBERG"

_PRIMITIVES = {
    "boolean": "boolean",
    "int": "int",
    "long": "bigint",
    "float": "float",
    "double": "double",
    "date": "date",
    "time": "string",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "timestamp_ns": "timestamp",
    "timestamptz_ns": "timestamp",
    "string": "string",
    "uuid": "string",
    "binary": "binary",
    "variant": "string",
}


def iceberg_to_hive_type(t: Any) -> str:
    """Iceberg type (metadata JSON form) -> Hive type string, as Iceberg's IcebergToGlueConverter."""
    if isinstance(t, str):
        if t in _PRIMITIVES:
            return _PRIMITIVES[t]
        if t.startswith("decimal"):
            return t.replace(" ", "")
        if t.startswith("fixed"):
            return "binary"
        if t.startswith(("geometry", "geography")):
            return "binary"
        raise ValueError(f"unknown Iceberg type {t!r}")
    kind = t.get("type")
    if kind == "struct":
        return "struct<" + ",".join(f"{f['name']}:{iceberg_to_hive_type(f['type'])}" for f in t["fields"]) + ">"
    if kind == "list":
        return f"array<{iceberg_to_hive_type(t['element'])}>"
    if kind == "map":
        return f"map<{iceberg_to_hive_type(t['key'])},{iceberg_to_hive_type(t['value'])}>"
    raise ValueError(f"unknown Iceberg type {t!r}")


def local_path(location: str) -> Path | None:
    """file:/x, file:///x or /x -> Path; None for non-local (s3://...) locations."""
    parsed = urlparse(location)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path))
    return None


def read_metadata(location: str) -> dict:
    path = local_path(location)
    if path is None:
        raise ValueError(f"metadata {location} is not a local file")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # write.metadata.compression-codec=gzip
        raw = gzip.decompress(raw)
    return json.loads(raw)


def glue_table_input(name: str, metadata_location: str, previous: str | None) -> dict:
    meta = read_metadata(metadata_location)
    schemas = meta.get("schemas") or [meta.get("schema")]
    current_id = meta.get("current-schema-id", schemas[0].get("schema-id"))
    schema = next((s for s in schemas if s.get("schema-id") == current_id), schemas[-1])
    columns = []
    for f in schema["fields"]:
        col = {
            "Name": f["name"],
            "Type": iceberg_to_hive_type(f["type"]),
            "Parameters": {
                "iceberg.field.id": str(f["id"]),
                "iceberg.field.optional": str(not f.get("required", False)).lower(),
                "iceberg.field.current": "true",
            },
        }
        if f.get("doc"):
            col["Comment"] = f["doc"]
        columns.append(col)
    params = {"table_type": ICEBERG, "metadata_location": metadata_location}
    if previous:
        params["previous_metadata_location"] = previous
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": params,
        "StorageDescriptor": {"Location": meta["location"], "Columns": columns},
    }


@dataclass(frozen=True)
class LocalTable:
    namespace: str
    name: str
    metadata_location: str
    previous_metadata_location: str | None


def read_local_catalog(db_path: Path, catalog_name: str) -> tuple[list[LocalTable], set[str]]:
    """(tables, namespaces) of one catalog in an Iceberg JDBC catalog SQLite file."""
    if not db_path.exists():
        return [], set()
    # Not mode=ro: a reader of a WAL database may need to create its shared-memory file; this only SELECTs.
    con = sqlite3.connect(db_path, timeout=60)
    try:
        existing = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables: list[LocalTable] = []
        namespaces: set[str] = set()
        if "iceberg_tables" in existing:
            cols = {r[1] for r in con.execute("PRAGMA table_info(iceberg_tables)")}
            type_filter = " AND (iceberg_type IS NULL OR iceberg_type = 'TABLE')" if "iceberg_type" in cols else ""
            for ns, name, loc, prev in con.execute(
                    "SELECT table_namespace, table_name, metadata_location, previous_metadata_location "
                    f"FROM iceberg_tables WHERE catalog_name = ?{type_filter}", (catalog_name,)):
                tables.append(LocalTable(ns, name, loc, prev))
                namespaces.add(ns)
        if "iceberg_namespace_properties" in existing:
            namespaces |= {r[0] for r in con.execute(
                "SELECT DISTINCT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?",
                (catalog_name,))}
        return tables, namespaces
    finally:
        con.close()


def federated_catalog_ids(catalogs, s3tables) -> dict[str, str]:
    """Glue database -> CatalogId of the federated S3 Tables child catalog it is a namespace of, for the
    run's S3 Tables catalogs (`catalogs`: conf.CatalogRepoint). `s3tables` lists the endpoint's table
    buckets and namespaces (the endpoint's own bookkeeping, signed with its admin keys)."""
    out: dict[str, str] = {}
    for c in catalogs:
        glue_id, warehouse = c.original.get("glue.id", ""), c.original.get("warehouse", "")
        if ":s3tablescatalog/" in glue_id:
            catalog_id, bucket = glue_id, glue_id.split(":s3tablescatalog/", 1)[1]
        elif c.kind == "s3tables" and warehouse.startswith("arn:"):
            bucket = warehouse.rsplit("/", 1)[-1]
            catalog_id = f"{warehouse.split(':')[4]}:s3tablescatalog/{bucket}"
        else:
            continue
        arns = [b["arn"] for b in s3tables.list_table_buckets(prefix=bucket)["tableBuckets"] if b["name"] == bucket]
        for arn in arns:
            for page in s3tables.get_paginator("list_namespaces").paginate(tableBucketARN=arn):
                for ns in page["namespaces"]:
                    out[ns["namespace"][0]] = catalog_id
    return out


def _in_catalog(database: str, federated: dict[str, str] | None) -> dict[str, str]:
    return {"CatalogId": federated[database]} if federated and database in federated else {}


def glue_iceberg_tables(glue, federated: dict[str, str] | None = None) -> tuple[dict[tuple[str, str], dict], set[str]]:
    """({(database, table): Glue table}, databases) for every Iceberg table in the Glue Data Catalog."""
    tables: dict[tuple[str, str], dict] = {}
    databases: set[str] = set()
    for page in glue.get_paginator("get_databases").paginate():
        for db in page["DatabaseList"]:
            databases.add(db["Name"])
    for db in sorted(databases):
        try:
            for page in glue.get_paginator("get_tables").paginate(DatabaseName=db, **_in_catalog(db, federated)):
                for t in page["TableList"]:
                    params = t.get("Parameters") or {}
                    # Iceberg tables without metadata_location are placeholders (e.g. declared by
                    # Terraform before any commit): the first local commit fills them in.
                    if params.get("table_type", "").upper() == ICEBERG:
                        tables[(db, t["Name"])] = t
        except glue.exceptions.AccessDeniedException as e:
            # The job's role may not read this database: its tables stay invisible to the job's Spark
            # (on AWS, loading one would fail with this error); the database still exists.
            log.warning("Glue database %s not visible to the job: %s", db, e)
    return tables, databases


# ---- the sync itself: runs may overlap, so it is three-way and under a short lock ---------------------

# Iceberg's JdbcCatalog schema (JdbcUtil, schema version V1): created here when the runner registers
# tables before any JVM opened the file; Iceberg's own CREATE ... IF NOT EXISTS then finds them.
_JDBC_SCHEMA = (
    ("CREATE TABLE IF NOT EXISTS iceberg_tables(catalog_name VARCHAR(255) NOT NULL,table_namespace VARCHAR(255)"
    " NOT NULL,table_name VARCHAR(255) NOT NULL,metadata_location VARCHAR(1000),previous_metadata_location"
    " VARCHAR(1000),iceberg_type VARCHAR(5),PRIMARY KEY (catalog_name, table_namespace, table_name))"),
    ("CREATE TABLE IF NOT EXISTS iceberg_namespace_properties(catalog_name VARCHAR(255) NOT NULL,namespace"
    " VARCHAR(255) NOT NULL,property_key VARCHAR(255),property_value VARCHAR(1000),PRIMARY KEY (catalog_name,"
    " namespace, property_key))"),
    # Not Iceberg's: the tables this catalog has seen in Glue (registered from it or written to it). A local
    # table Glue lacks is then either new (committed by a run whose write-back is pending: kept) or deleted
    # from Glue since (unregistered).
    ("CREATE TABLE IF NOT EXISTS localcloud_glue_synced(catalog_name VARCHAR(255) NOT NULL,table_namespace"
    " VARCHAR(255) NOT NULL,table_name VARCHAR(255) NOT NULL,PRIMARY KEY (catalog_name, table_namespace,"
    " table_name))"),
)
SYNC_LOCK_NAME = ".glue-sync.lock"
SYNC_LOCK_DEADLINE_S = 300.0


class CatalogSyncError(RuntimeError):
    pass


@contextmanager
def sync_lock(root: Path, deadline_s: float = SYNC_LOCK_DEADLINE_S):
    """Serialise the catalog syncs of overlapping runs (held for a sync, not for the run). flock locks
    open file descriptions, so threads of the endpoint and other processes exclude each other alike."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / SYNC_LOCK_NAME, "w") as f:
        deadline = time.monotonic() + deadline_s
        delay = 0.01
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CatalogSyncError(f"the Glue catalog sync lock {root / SYNC_LOCK_NAME} was not free "
                                           f"within {deadline_s:.0f} s") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _open_catalog(db_path: Path) -> sqlite3.Connection:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")  # as the drivers open it (spark_runtime.catalog_conf)
    for ddl in _JDBC_SCHEMA:
        con.execute(ddl)
    return con


def lineage(metadata_location: str) -> set[str]:
    """The metadata file and those it superseded (its ``metadata-log``): Glue pointing at one of them means
    the local table is ahead of Glue, not that Glue moved elsewhere."""
    try:
        meta = read_metadata(metadata_location)
    except (OSError, ValueError):
        return {metadata_location}
    return {metadata_location, *(e.get("metadata-file") for e in meta.get("metadata-log", []))}


def _registrable(db: str, name: str, table: dict) -> str | None:
    loc = table["Parameters"].get("metadata_location")
    if not loc:
        return None  # Iceberg tables without metadata_location: placeholders filled by the first commit
    path = local_path(loc)
    if path is None or not path.exists():
        log.warning("Glue table %s.%s points at %s, which is not on this machine: not visible locally",
                    db, name, loc)
        return None
    return loc


def presync(glue, catalogs: dict[str, Path], federated: dict[str, str] | None, say) -> dict:
    """Before a run (hold ``sync_lock``): make each local catalog show the Glue Data Catalog's Iceberg
    tables. Glue is the source of truth, except where a local table is AHEAD of Glue (Glue points at an
    ancestor of the local metadata: a run committed and its write-back is pending) or NEW (never in Glue).

    Returns ``{catalog: {(db, table): metadata_location}}`` of the local tables after the sync, which
    ``postsync`` uses to tell what the run dropped."""
    glue_tables, glue_dbs = glue_iceberg_tables(glue, federated)
    out: dict[str, dict[tuple[str, str], str]] = {}
    for cat, cat_dir in catalogs.items():
        con = _open_catalog(Path(cat_dir) / "catalog.db")
        try:
            con.execute("BEGIN IMMEDIATE")
            for db in sorted(glue_dbs):
                con.execute("INSERT OR IGNORE INTO iceberg_namespace_properties VALUES (?, ?, 'exists', 'true')",
                            (cat, db))
            local = {(ns, n): loc for ns, n, loc in con.execute(
                "SELECT table_namespace, table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ?"
                " AND (iceberg_type IS NULL OR iceberg_type = 'TABLE')", (cat,))}
            synced = {(ns, n) for ns, n in con.execute(
                "SELECT table_namespace, table_name FROM localcloud_glue_synced WHERE catalog_name = ?", (cat,))}
            for (db, name), table in sorted(glue_tables.items()):
                loc = _registrable(db, name, table)
                if loc is None:
                    continue
                mine = local.get((db, name))
                if mine != loc and not (mine and loc in lineage(mine)):
                    con.execute("INSERT OR REPLACE INTO iceberg_tables VALUES (?, ?, ?, ?, ?, 'TABLE')",
                                (cat, db, name, loc, mine))
                    local[(db, name)] = loc
                    say(f"glue catalog ({cat}): registered {db}.{name} from Glue -> {loc}")
                con.execute("INSERT OR IGNORE INTO localcloud_glue_synced VALUES (?, ?, ?)", (cat, db, name))
                synced.add((db, name))
            for db, name in sorted(set(local) - set(glue_tables)):
                if (db, name) in synced:  # was in Glue, deleted from it since: files kept, as DROP without PURGE
                    con.execute("DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND "
                                "table_name = ?", (cat, db, name))
                    con.execute("DELETE FROM localcloud_glue_synced WHERE catalog_name = ? AND table_namespace = ?"
                                " AND table_name = ?", (cat, db, name))
                    del local[(db, name)]
                    say(f"glue catalog ({cat}): unregistered {db}.{name}: deleted from the Glue Data Catalog")
            con.execute("COMMIT")
        finally:
            con.close()
        out[cat] = local
    return out


def committed_by(metadata_location: str, writer: tuple[str, int]) -> bool:
    """Did the run (its Spark application id, its start in epoch ms) commit a snapshot of this metadata?
    A warm driver serves one run at a time, so its application's snapshots since the run started are the run's."""
    app_id, since_ms = writer
    try:
        snapshots = read_metadata(metadata_location).get("snapshots") or []
    except (OSError, ValueError):
        return False
    return any((s.get("summary") or {}).get("spark.app.id") == app_id and s.get("timestamp-ms", 0) >= since_ms
               for s in snapshots)


def postsync(glue, catalogs: dict[str, Path], presynced: dict, federated: dict[str, str] | None, say,
             writer: tuple[str, int] | None = None) -> None:
    """After a run (hold ``sync_lock``): write every local table that is ahead of Glue to Glue, as Iceberg's
    GlueCatalog commit does, as the run's role. With ``writer`` (the run's Spark application id and start),
    only tables the run committed to: another run's pending commit is that run's to write, with its role
    (a view job must not need UpdateTable on the table an overlapping ingest is loading). A table where Glue
    moved to a metadata file the local table does not descend from is a conflict: Glue is not overwritten
    and CatalogSyncError names it."""
    conflicts: list[str] = []
    for cat, cat_dir in catalogs.items():
        db_path = Path(cat_dir) / "catalog.db"
        local_tables, local_namespaces = read_local_catalog(db_path, cat)
        glue_tables, glue_dbs = glue_iceberg_tables(glue, federated)
        for ns in sorted(local_namespaces - glue_dbs):
            if "\x1f" in ns:  # Iceberg's separator of nested namespaces: Glue has one level only
                say(f"glue catalog ({cat}): skipped nested namespace {ns!r} (Glue databases are one level)")
                continue
            try:
                glue.create_database(DatabaseInput={"Name": ns}, **_in_catalog(ns, federated))
                say(f"glue catalog ({cat}): created database {ns}")
            except glue.exceptions.AlreadyExistsException:
                pass
        written: list[tuple[str, str]] = []
        for t in local_tables:
            key = (t.namespace, t.name)
            current = glue_tables.get(key)
            glue_location = current["Parameters"].get("metadata_location") if current else None
            if glue_location == t.metadata_location:
                continue
            if glue_location and glue_location not in lineage(t.metadata_location):
                if t.metadata_location not in lineage(glue_location):
                    conflicts.append(f"{t.namespace}.{t.name}: Glue points at {glue_location}, which the local "
                                     f"commit {t.metadata_location} does not descend from")
                continue  # Glue is ahead of this catalog (another catalog wrote it): nothing to write
            if writer is not None and not committed_by(t.metadata_location, writer):
                say(f"glue catalog ({cat}): {t.namespace}.{t.name} is ahead of Glue by another run's commit; "
                    "left for that run's write-back")
                continue
            table_input = glue_table_input(t.name, t.metadata_location, glue_location or t.previous_metadata_location)
            if current is None:
                try:
                    glue.create_table(DatabaseName=t.namespace, TableInput=table_input,
                                      **_in_catalog(t.namespace, federated))
                    say(f"glue catalog ({cat}): created Glue table {t.namespace}.{t.name} -> {t.metadata_location}")
                    written.append(key)
                except glue.exceptions.AlreadyExistsException:
                    # A non-Iceberg table (e.g. a view) has that name: GlueCatalog would have refused the CREATE.
                    say(f"glue catalog ({cat}): NOT registered {t.namespace}.{t.name}: a non-Iceberg Glue table "
                        "has that name")
                continue
            glue.update_table(DatabaseName=t.namespace, TableInput=table_input, **_in_catalog(t.namespace, federated))
            say(f"glue catalog ({cat}): updated Glue table {t.namespace}.{t.name} -> {t.metadata_location}")
            written.append(key)
        local_keys = {(t.namespace, t.name) for t in local_tables}
        for key, loc in sorted(presynced.get(cat, {}).items()):
            current = glue_tables.get(key)
            # Dropped by this run: local before the run, gone now, and Glue still where it was.
            if key not in local_keys and current and current["Parameters"].get("metadata_location") == loc:
                glue.delete_table(DatabaseName=key[0], Name=key[1], **_in_catalog(key[0], federated))
                say(f"glue catalog ({cat}): deleted Glue table {key[0]}.{key[1]} (dropped by the run)")
        if written:
            con = _open_catalog(db_path)
            try:
                con.executemany("INSERT OR IGNORE INTO localcloud_glue_synced VALUES (?, ?, ?)",
                                [(cat, db, name) for db, name in written])
            finally:
                con.close()
    if conflicts:
        raise CatalogSyncError("the Glue Data Catalog changed outside the local runs; not overwritten: "
                               + "; ".join(conflicts))
