"""Write a small (or large) Iceberg table on local disk from a DuckDB query, without pyarrow.

DuckDB writes the Parquet file (with Iceberg field ids); PyIceberg's SqlCatalog (SQLite) commits it as a
snapshot. Used by the tests and the Athena benchmark to make fixture tables, then registered in the
endpoint's Glue Data Catalog with their metadata_location.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path


def _iceberg_type(duck_type: str):
    from pyiceberg import types as t

    d = duck_type.upper()
    simple = {
        "BOOLEAN": t.BooleanType(), "TINYINT": t.IntegerType(), "SMALLINT": t.IntegerType(),
        "INTEGER": t.IntegerType(), "BIGINT": t.LongType(), "FLOAT": t.FloatType(), "DOUBLE": t.DoubleType(),
        "VARCHAR": t.StringType(), "DATE": t.DateType(), "TIMESTAMP": t.TimestampType(),
        "TIMESTAMP WITH TIME ZONE": t.TimestamptzType(), "BLOB": t.BinaryType(),
    }
    if d in simple:
        return simple[d]
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", d)
    if m:
        return t.DecimalType(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"no Iceberg type for DuckDB type {duck_type}")


_CASTS = {"TINYINT": "INTEGER", "SMALLINT": "INTEGER"}


def write_table(warehouse: Path, namespace: str, name: str, select_sql: str) -> str:
    """Create <namespace>.<name> in a SQLite catalog under warehouse from select_sql; return metadata_location."""
    import duckdb
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.schema import Schema
    from pyiceberg.typedef import Record
    from pyiceberg.types import NestedField

    warehouse = Path(warehouse).resolve()
    warehouse.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog("local", uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}",
                         **{"py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO"})
    if (namespace,) not in catalog.list_namespaces():
        catalog.create_namespace(namespace)
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE {select_sql}").fetchall()
    fields, projections, field_ids = [], [], []
    for i, row in enumerate(described, start=1):
        col, typ = row[0], row[1]
        fields.append(NestedField(i, col, _iceberg_type(_CASTS.get(typ.upper(), typ)), required=False))
        projections.append(f'CAST("{col}" AS {_CASTS.get(typ.upper(), typ)}) AS "{col}"')
        field_ids.append(f'"{col}": {i}')
    table = catalog.create_table(f"{namespace}.{name}", schema=Schema(*fields))
    data_dir = Path(table.location().removeprefix("file://")) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"00000-{uuid.uuid4().hex}.parquet"
    con.execute(f"COPY (SELECT {', '.join(projections)} FROM ({select_sql})) TO '{path}' "
                f"(FORMAT parquet, FIELD_IDS {{{', '.join(field_ids)}}})")
    count = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
    data_file = DataFile.from_args(
        content=DataFileContent.DATA, file_path=f"file://{path}", file_format=FileFormat.PARQUET,
        partition=Record(), record_count=count, file_size_in_bytes=os.path.getsize(path), sort_order_id=None,
        spec_id=0, equality_ids=None, key_metadata=None,
    )
    with table.transaction() as tx, tx.update_snapshot().fast_append() as append:
        append.append_data_file(data_file)
    return catalog.load_table(f"{namespace}.{name}").metadata_location


def register_in_glue(glue, database: str, name: str, metadata_location: str, columns: list[dict] | None = None):
    """Register an Iceberg table in a Glue Data Catalog (as Glue/Spark's GlueCatalog does)."""
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    glue.create_table(DatabaseName=database, TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": "ICEBERG", "metadata_location": metadata_location},
        "StorageDescriptor": {"Columns": columns or [], "Location": metadata_location.rsplit("/metadata/", 1)[0]},
    })
