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

The local catalog is read straight from its SQLite file (read-only): that works even when the
run's JVM was killed, and Iceberg's JDBC catalog schema (tables ``iceberg_tables`` and
``iceberg_namespace_properties``) is part of its documented on-disk format.
"""

from __future__ import annotations

import gzip
import json
import logging
import sqlite3
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
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
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


def presync_plan(glue, federated: dict[str, str] | None = None) -> dict:
    """What the driver must register locally before the job code runs (see driver.presync)."""
    tables, databases = glue_iceberg_tables(glue, federated)
    registrable = []
    for (db, name), t in sorted(tables.items()):
        loc = t["Parameters"].get("metadata_location")
        if not loc:
            continue
        path = local_path(loc)
        if path is None or not path.exists():
            log.warning("Glue table %s.%s points at %s, which is not on this machine: not visible locally",
                        db, name, loc)
            continue
        registrable.append({"database": db, "table": name, "metadata_location": loc})
    return {"databases": sorted(databases), "tables": registrable}


def postsync(glue, db_path: Path, catalog_name: str, presynced: list[dict],
             federated: dict[str, str] | None = None) -> list[str]:
    """Write the local catalog's changes to Glue; returns a line per action (for the run's log)."""
    actions: list[str] = []
    local_tables, local_namespaces = read_local_catalog(db_path, catalog_name)
    glue_tables, glue_dbs = glue_iceberg_tables(glue, federated)
    for ns in sorted(local_namespaces - glue_dbs):
        if "\x1f" in ns:  # Iceberg's separator of nested namespaces: Glue has one level only
            actions.append(f"skipped nested namespace {ns!r} (Glue databases are one level)")
            continue
        try:
            glue.create_database(DatabaseInput={"Name": ns}, **_in_catalog(ns, federated))
            actions.append(f"created database {ns}")
        except glue.exceptions.AlreadyExistsException:
            pass
        glue_dbs.add(ns)
    for t in local_tables:
        key = (t.namespace, t.name)
        current = glue_tables.get(key)
        glue_location = current["Parameters"].get("metadata_location") if current else None
        if glue_location == t.metadata_location:
            continue
        previous = glue_location if current else t.previous_metadata_location
        table_input = glue_table_input(t.name, t.metadata_location, previous)
        if current is None:
            try:
                glue.create_table(DatabaseName=t.namespace, TableInput=table_input, **_in_catalog(t.namespace, federated))
                actions.append(f"created Glue table {t.namespace}.{t.name} -> {t.metadata_location}")
                continue
            except glue.exceptions.AlreadyExistsException:
                # A table of that name exists but is not Iceberg (e.g. a view): GlueCatalog would have
                # refused the CREATE; report it instead of overwriting someone else's table.
                actions.append(f"NOT registered {t.namespace}.{t.name}: a non-Iceberg Glue table has that name")
                continue
        glue.update_table(DatabaseName=t.namespace, TableInput=table_input, **_in_catalog(t.namespace, federated))
        actions.append(f"updated Glue table {t.namespace}.{t.name} -> {t.metadata_location}")
    local_keys = {(t.namespace, t.name) for t in local_tables}
    for p in presynced:
        key = (p["database"], p["table"])
        current = glue_tables.get(key)
        # Dropped by this run: it was registered locally before the run and is gone now, and nobody
        # else moved Glue's pointer in the meantime.
        if key not in local_keys and current and current["Parameters"].get("metadata_location") == p["metadata_location"]:
            glue.delete_table(DatabaseName=key[0], Name=key[1], **_in_catalog(key[0], federated))
            actions.append(f"deleted Glue table {key[0]}.{key[1]} (dropped by the run)")
    return actions
