"""Helpers shared by the Spark integration tests."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import sqlglot

from lakepipe.spec import DatasetSpec


def rows_sorted(rows) -> list[tuple]:
    """Sort rows that may hold None (Python cannot compare None with str)."""
    return sorted((tuple(r) for r in rows), key=lambda r: tuple((x is None, "" if x is None else str(x)) for x in r))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def table_rows(spark, table: str, spec: DatasetSpec) -> list[tuple]:
    return rows_sorted(spark.table(table).select(*spec.data_columns).collect())


def snapshot_ids(spark, table: str) -> list[int]:
    return [r[0] for r in spark.sql(f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at").collect()]


def read_rejects(directory: Path) -> list[dict]:
    out = []
    for f in sorted(directory.glob("*.json")):
        out += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line]
    return sorted(out, key=lambda r: r["line"])


def duckdb_with_table(spark, table: str, spec: DatasetSpec, catalog: str | None = None) -> duckdb.DuckDBPyConnection:
    """The table's rows in DuckDB as <database>.<table> (in an attached database named `catalog`
    when given, e.g. Athena's `s3tablescatalog/<bucket>`), for running the Athena (Trino) SQL."""
    con = duckdb.connect()
    prefix = ""
    if catalog:
        con.execute(f"ATTACH ':memory:' AS \"{catalog}\"")
        prefix = f'"{catalog}".'
    con.execute(f'CREATE SCHEMA {prefix}"{spec.database}"')
    cols = ", ".join(f'"{c}" VARCHAR' for c in spec.data_columns)
    con.execute(f'CREATE TABLE {prefix}"{spec.database}"."{spec.table}" ({cols})')
    rows = [tuple(r) for r in spark.table(table).select(*spec.data_columns).collect()]
    placeholders = ", ".join("?" for _ in spec.data_columns)
    con.executemany(f'INSERT INTO {prefix}"{spec.database}"."{spec.table}" VALUES ({placeholders})', rows)
    return con


def run_trino_in_duckdb(con, trino_sql: str) -> list[tuple]:
    duck_sql = sqlglot.transpile(trino_sql, read="trino", write="duckdb")[0]
    return rows_sorted(con.execute(duck_sql).fetchall())


def run_spark_view_sql(spark, catalog: str, spark_sql: str) -> list[tuple]:
    prev = spark.catalog.currentCatalog()
    spark.catalog.setCurrentCatalog(catalog)
    try:
        return rows_sorted(spark.sql(spark_sql).collect())
    finally:
        spark.catalog.setCurrentCatalog(prev)


def stored_representations(glue, database: str, view: str) -> dict[str, str]:
    t = glue.get_table(DatabaseName=database, Name=view)["Table"]
    return {r["Dialect"]: r["ViewOriginalText"] for r in t["ViewDefinition"]["Representations"]}
