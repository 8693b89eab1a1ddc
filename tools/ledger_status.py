"""`make status DATASET=<name>`: the latest entries of a dataset's ledger (lakepipe.ledger), read through the
local Athena exactly as through Athena on AWS (the SQL is printed with `--print-sql`, for the Athena console).

Usage: tools/ledger_status.py <dataset> [--limit N] [--print-sql]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlglot
from botocore.exceptions import EndpointConnectionError
from sqlglot import exp

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lakepipe import ledger
from lakepipe.ledger import SUFFIX
from lakepipe.spec import DatasetSpec

COLUMNS = ("loaded_at", "status", "source_key", "source_version", "rows_read", "rows_loaded", "rows_rejected",
           "rows_changed", "run_id", "source_event_time", "error")


def ledger_reference(spec: DatasetSpec, table_bucket: str | None = None) -> exp.Table:
    """The ledger as Athena names it: "<database>"."<table>_ledger", or in "s3tablescatalog/<bucket>"."""
    catalog = f"s3tablescatalog/{table_bucket}" if spec.target == "s3tables" else None
    if spec.target == "s3tables" and not table_bucket:
        raise ValueError(f"dataset {spec.name} lives in S3 Tables: the table bucket's name is needed")
    return exp.table_(spec.table + SUFFIX, db=spec.database, catalog=catalog, quoted=True)


def status_sql(spec: DatasetSpec, limit: int = 20, table_bucket: str | None = None) -> str:
    """Athena (Trino) SQL: the newest `limit` entries, newest first. Times are cast to varchar: Athena returns
    every value as text anyway, and the local Athena cannot return `timestamp with time zone` values (Spark's
    TIMESTAMP is Iceberg's timestamptz); the ORDER BY uses the table's columns, qualified, not the casts."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    alias = "l"

    def projection(name: str) -> exp.Expression:
        column = exp.column(name, table=alias, quoted=True)
        if ledger.COLUMNS[name] == "TIMESTAMP":
            return exp.alias_(exp.cast(column, "varchar"), name, quoted=True)
        return column

    query = (exp.select(*(projection(c) for c in COLUMNS))
             .from_(exp.alias_(ledger_reference(spec, table_bucket), alias, table=True))
             .order_by(exp.Ordered(this=exp.column("loaded_at", table=alias, quoted=True), desc=True),
                       exp.Ordered(this=exp.column("run_id", table=alias, quoted=True), desc=True))
             .limit(limit))
    sql = query.sql(dialect="trino")
    sqlglot.parse_one(sql, read="trino")  # what Athena will parse
    return sql


def render(rows: list[list[str | None]]) -> str:
    """Athena's rows (header first) as aligned text columns."""
    if len(rows) <= 1:
        return "(no ledger entries yet)\n" if rows else ""
    cells = [["" if v is None else v for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    return "".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in cells)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO / "tools"))
    import local_lake

    ap = argparse.ArgumentParser(prog="tools/ledger_status.py", description=__doc__.split("\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--print-sql", action="store_true", help="print the Athena SQL before the rows")
    args = ap.parse_args(argv)
    try:
        outputs = local_lake.stack_outputs()
        spec = local_lake.dataset_spec(args.dataset, outputs)
        table_bucket = (outputs.get("table_bucket_arn") or "").rsplit("/", 1)[-1] or None
        sql = status_sql(spec, args.limit, table_bucket)
        if args.print_sql:
            print(sql)
        try:
            rows = local_lake.athena_query(sql)
        except local_lake.StepError as e:
            if "does not exist" in str(e) or "not found" in str(e).lower():
                print(f"dataset {spec.name}: no ledger yet ({spec.database}.{spec.table}{SUFFIX}); "
                      "it appears with the dataset's first run")
                return 0
            raise
    except local_lake.StepError as e:
        print(f"FAILED at step {e.step}: {e}", file=sys.stderr)
        return 1
    except EndpointConnectionError:
        print(f"FAILED: the local endpoint {local_lake.endpoint_url()} is not answering (`make up`, "
              "`make deploy-local`)", file=sys.stderr)
        return 1
    sys.stdout.write(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
