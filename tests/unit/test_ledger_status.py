"""tools/ledger_status.py (`make status DATASET=`): its Athena SQL, run on DuckDB after the same Trino -> DuckDB
translation as the local Athena, over a table shaped like the ledger; and what it prints."""

import sys
from pathlib import Path

import duckdb
import pytest
import sqlglot

from lakepipe import ledger
from lakepipe.spec import parse_spec

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import ledger_status

SPEC = parse_spec({"name": "entities", "raw_prefix": "incoming/entities/", "database": "lake", "table": "entities"})
DUCK_TYPES = {"STRING": "VARCHAR", "TIMESTAMP": "TIMESTAMP", "BIGINT": "BIGINT"}


def test_the_status_query_reads_the_newest_entries_first():
    con = duckdb.connect()
    con.execute('CREATE SCHEMA "lake"')
    con.execute('CREATE TABLE "lake"."entities_ledger" ('
                + ", ".join(f'"{c}" {DUCK_TYPES[t]}' for c, t in ledger.COLUMNS.items()) + ")")
    for i in range(30):
        row = {c: None for c in ledger.COLUMNS} | {
            "run_id": f"run-{i:02d}", "loaded_at": f"2026-11-30 12:{i:02d}:00", "status": "loaded",
            "source_key": f"incoming/entities/{i}.csv", "rows_read": i, "rows_loaded": i, "rows_rejected": 0,
            "rows_changed": i}
        con.execute(f'INSERT INTO "lake"."entities_ledger" VALUES ({", ".join("?" for _ in row)})', list(row.values()))
    sql = ledger_status.status_sql(SPEC, limit=5)
    rows = con.execute(sqlglot.transpile(sql, read="trino", write="duckdb")[0]).fetchall()
    assert [r[ledger_status.COLUMNS.index("run_id")] for r in rows] == ["run-29", "run-28", "run-27", "run-26", "run-25"]
    assert set(ledger_status.COLUMNS) <= set(ledger.COLUMNS)


def test_s3_tables_datasets_are_read_through_their_catalog():
    s3t = parse_spec({**SPEC.to_dict(), "target": "s3tables"})
    assert 'FROM "s3tablescatalog/tb"."lake"."entities_ledger"' in ledger_status.status_sql(s3t, table_bucket="tb")
    with pytest.raises(ValueError, match="table bucket"):
        ledger_status.status_sql(s3t)
    with pytest.raises(ValueError, match="at least 1"):
        ledger_status.status_sql(SPEC, limit=0)


def test_rendering():
    assert ledger_status.render([["status", "run_id"]]) == "(no ledger entries yet)\n"
    assert ledger_status.render([["status", "run_id"], ["loaded", None], ["unchanged", "r-2"]]) == (
        "status     run_id\nloaded\nunchanged  r-2\n")
