"""The ingest contract of lakepipe/ingest.py done by DuckDB on one machine: the benchmark's reference.

Same work as the Spark job, step for step (lakepipe/README.md, "The ingest job"):
- the file is read as physical lines (LF, CRLF and CR ends) with 1-based line numbers; the header
  (line 1) is checked with the job's own rules (lakepipe.rules.match_header: missing column -> error);
- every data line is classified, first match wins: `unparseable` (invalid UTF-8, odd number of `"`),
  `wrong_field_count`, `empty_split_value`, `empty_key`, then among the remaining lines the last line
  of a natural key wins, earlier ones are `duplicate_key` / `duplicate_row`; blank lines are skipped;
- good rows get the metadata columns; rejects are written as JSON lines ordered by line;
- the table is zstd Parquet partitioned by the split column, committed atomically: a new table is
  written whole; an existing one gets MERGE semantics (only rows that are new or whose value differs,
  found by an anti-join on natural key + value; no change -> no commit). Like Iceberg's copy-on-write,
  the split partitions holding changes are rewritten; a table version is a manifest of Parquet files
  (`<table>/v<N>.json`) made current by an atomic rename of `<table>/current.json`;
- like lakepipe/reload.py, each commit's manifest carries its load's proof (source URI, SHA-256 of the bytes,
  spec, counts, rejects location): loading the same bytes and spec onto the version that load made reads
  nothing but the bytes, and copies that load's rejects (their count checked) with this run's id.

CSV fields follow RFC 4180 as Spark's `from_csv` reads them: a line without `"` is split on commas; a
line with quotes is tokenised by a regular expression (quoted field with `""` escapes, or a run of
non-commas); an empty field is NULL.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import duckdb

from lakepipe.rules import HeaderError, match_header, parse_header_line
from lakepipe.spec import METADATA_COLUMNS, DatasetSpec

SOURCE_FILE, INGESTED_AT, RUN_ID = METADATA_COLUMNS
REASONS = ("unparseable", "wrong_field_count", "empty_split_value", "empty_key", "duplicate_key", "duplicate_row")
FIELD = r"""(?:^|,)("(?:[^"]|"")*"|[^,]*)"""


def qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _load_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Table `lines(n, line, bad_utf8)`: one row per physical line, as Spark's text reader splits them."""
    p = ql(str(path))
    valid = con.execute(f"SELECT try(decode(content)) IS NOT NULL FROM read_blob({p})").fetchone()[0]
    if valid:
        # Without a CR in the file a plain split on LF gives the same lines, about twice as fast.
        split = ("CASE WHEN contains(content, chr(13)) THEN regexp_split_to_array(content, '\r\n|\r|\n') "
                 "ELSE string_split(content, chr(10)) END")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE lines AS
            SELECT generate_subscripts(s, 1) AS n, unnest(s) AS line, false AS bad_utf8
            FROM (SELECT {split} AS s FROM read_text({p}))""")
    else:
        # Not valid UTF-8 somewhere: split the escaped bytes (blob -> text renders every byte as \\xNN
        # or itself) and decode each line on its own; a line that does not decode is `unparseable`.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE lines AS
            SELECT n, coalesce(try(decode(esc::BLOB)), esc) AS line, try(decode(esc::BLOB)) IS NULL AS bad_utf8
            FROM (SELECT generate_subscripts(s, 1) AS n, unnest(s) AS esc
                  FROM (SELECT regexp_split_to_array(content::VARCHAR, '\\\\x0D\\\\x0A|\\\\x0D|\\\\x0A') AS s
                        FROM read_blob({p})))""")
    # A final line end does not start another line (as in Spark's reader).
    con.execute("DELETE FROM lines WHERE n = (SELECT max(n) FROM lines) AND line = ''")


class Table:
    """A directory of zstd Parquet files partitioned by the split column; versions are manifests."""

    def __init__(self, root: Path, split_column: str):
        self.root, self.split = Path(root), split_column

    def files(self) -> list[str] | None:
        current = self.root / "current.json"
        return json.loads(current.read_text())["files"] if current.is_file() else None

    def scan(self, files: list[str], *, filename: bool = False) -> str:
        return (f"read_parquet([{', '.join(ql(f) for f in files)}], hive_partitioning=true, filename={filename}, "
                f"hive_types={{{ql(self.split)}: VARCHAR}}, hive_types_autocast=false)")

    def write(self, con, select_sql: str, version: int) -> list[str]:
        out = self.root / f"v{version}"
        con.execute(f"COPY ({select_sql}) TO {ql(str(out))} (FORMAT parquet, COMPRESSION zstd, "
                    f"PARTITION_BY ({qi(self.split)}))")
        return sorted(str(p) for p in out.rglob("*.parquet"))

    def commit(self, files: list[str], version: int, proof: dict[str, Any]) -> None:
        document = json.dumps({"version": version, "files": files, "proof": proof})
        (self.root / f"v{version}.json").write_text(document)
        tmp = self.root / "current.json.tmp"
        tmp.write_text(document)
        os.replace(tmp, self.root / "current.json")  # the atomic commit

    def proof(self) -> dict[str, Any] | None:
        """The current version's load proof (None: no table)."""
        current = self.root / "current.json"
        return json.loads(current.read_text()).get("proof") if current.is_file() else None

    def version(self) -> int:
        current = self.root / "current.json"
        return json.loads(current.read_text())["version"] if current.is_file() else 0


def ingest(spec: DatasetSpec, path: Path, *, table_dir: Path, rejects_dir: Path, source_uri: str, run_id: str,
           ingested_at: str = "2026-01-01 00:00:00", threads: int | None = None) -> dict[str, Any]:
    """Load one CSV file into the Parquet table at table_dir; returns the job's report fields + seconds."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    table = Table(table_dir, spec.split_column)
    with open(path, "rb") as f:
        checksum = hashlib.file_digest(f, "sha256").hexdigest()
    fingerprint = json.dumps(spec.to_dict(), sort_keys=True)
    proof = table.proof()
    if proof and (proof["source_uri"], proof["sha256"], proof["spec"]) == (source_uri, checksum, fingerprint):
        seconds["unchanged_check"] = round(time.perf_counter() - t0, 2)
        result = _copy_rejects(con, proof, rejects_dir, run_id, seconds)
        if result is not None:
            con.close()
            return result
    _load_lines(con, Path(path))
    header = con.execute("SELECT line FROM lines WHERE n = 1").fetchone()
    if header is None:
        raise HeaderError(f"{source_uri}: the file is empty (no header line); nothing was loaded")
    layout = match_header(parse_header_line(header[0]), spec, source_uri)

    quotes = "(length(line) - length(replace(line, '\"', '')))"
    fields = f"CASE WHEN contains(line, '\"') THEN regexp_extract_all(line, {ql(FIELD)}, 1) " \
             "ELSE string_split(line, ',') END"

    def field(i: int) -> str:
        f = f"f[{i + 1}]"
        unq = f"CASE WHEN starts_with({f}, '\"') THEN replace({f}[2:-2], '\"\"', '\"') ELSE {f} END"
        return f"nullif({unq}, '')"

    cols = ", ".join(f"{field(layout.positions[c])} AS {qi(c)}" for c in spec.data_columns)
    split_c, key_c, value_c = qi(spec.split_column), qi(spec.key_column), qi(spec.value_column)
    nk = ", ".join(qi(c) for c in spec.natural_key)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE parsed AS
        SELECT n, line, bad_utf8, q, len(f) AS nf, {cols}
        FROM (SELECT n, line, bad_utf8, {quotes} AS q, {fields} AS f FROM lines
              WHERE n > 1 AND trim(line) <> '')""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE classified AS
        WITH first_pass AS (
            SELECT *, CASE WHEN bad_utf8 THEN 'unparseable'
                           WHEN q % 2 = 1 THEN 'unparseable'
                           WHEN nf <> {layout.field_count} THEN 'wrong_field_count'
                           WHEN {split_c} IS NULL OR trim({split_c}) = '' THEN 'empty_split_value'
                           WHEN {key_c} IS NULL OR trim({key_c}) = '' THEN 'empty_key' END AS reason
            FROM parsed),
        ranked AS (
            SELECT *, row_number() OVER w AS rn, first_value({value_c}) OVER w AS winner_value,
                   first_value(n) OVER w AS winner_line
            FROM first_pass WHERE reason IS NULL
            WINDOW w AS (PARTITION BY {nk} ORDER BY n DESC))
        SELECT * EXCLUDE (rn, winner_value, winner_line),
               CASE WHEN rn > 1 AND {value_c} IS NOT DISTINCT FROM winner_value THEN 'duplicate_row'
                    WHEN rn > 1 THEN 'duplicate_key' END AS dup_reason, winner_line
        FROM ranked
        UNION ALL BY NAME
        SELECT *, NULL AS dup_reason, NULL AS winner_line FROM first_pass WHERE reason IS NOT NULL""")
    counts = dict(con.execute("SELECT coalesce(reason, dup_reason, 'good'), count(*) FROM classified "
                              "GROUP BY ALL").fetchall())
    blank = con.execute("SELECT count(*) FROM lines WHERE n > 1 AND trim(line) = ''").fetchone()[0]
    seconds["read_classify_count"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()

    meta = f"{ql(source_uri)} AS {qi(SOURCE_FILE)}, TIMESTAMP {ql(ingested_at)} AS {qi(INGESTED_AT)}, " \
           f"{ql(run_id)} AS {qi(RUN_ID)}"
    data_cols = ", ".join(qi(c) for c in spec.data_columns)
    all_cols = data_cols + ", " + ", ".join(qi(c) for c in METADATA_COLUMNS)
    good = f"SELECT {data_cols}, {meta} FROM classified WHERE reason IS NULL AND dup_reason IS NULL"
    by_reason = {r: counts[r] for r in REASONS if counts.get(r)}
    n_rejected = sum(by_reason.values())
    result = {"rows_read": sum(counts.values()), "rows_loaded": counts.get("good", 0), "rows_rejected": n_rejected,
              "rejects_location": str(rejects_dir) + "/" if n_rejected else None, "rejects_by_reason": by_reason,
              "blank_lines": blank}
    proof = {"source_uri": source_uri, "sha256": checksum, "spec": fingerprint, "result": result}
    table.root.mkdir(parents=True, exist_ok=True)
    files = table.files()
    created = files is None
    if created:
        table.commit(table.write(con, good, 1), 1, proof)
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW target AS SELECT {all_cols} FROM {table.scan(files)}")
        on_key = " AND ".join(f"t.{qi(c)} IS NOT DISTINCT FROM s.{qi(c)}" for c in spec.natural_key)
        # The anti-join reads only the file's split values and the key + value columns.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE changes AS
            SELECT s.* FROM ({good}) s WHERE NOT EXISTS (
                SELECT 1 FROM target t WHERE {on_key}
                AND t.{value_c} IS NOT DISTINCT FROM s.{value_c})""")
        touched = [r[0] for r in con.execute(f"SELECT DISTINCT {split_c} FROM changes").fetchall()]
        if touched:
            in_touched = f"{split_c} IN ({', '.join(ql(v) for v in touched)})"
            # Copy-on-write: the touched partitions are rewritten = their old rows minus the changed
            # keys (MATCHED -> UPDATE SET value + metadata) plus the changed and new rows (INSERT).
            rewritten = f"""SELECT {all_cols} FROM target t WHERE {in_touched} AND NOT EXISTS (
                                SELECT 1 FROM changes s WHERE {on_key})
                            UNION ALL SELECT {all_cols} FROM changes"""
            version = table.version() + 1
            kept = con.execute(f"SELECT DISTINCT filename FROM {table.scan(files, filename=True)} "
                               f"WHERE NOT ({in_touched})"
                               ).fetchall()
            table.commit(sorted(r[0] for r in kept) + table.write(con, rewritten, version), version, proof)
    seconds["commit" if created else "diff_and_merge"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()

    if n_rejected:
        rejects_dir.mkdir(parents=True, exist_ok=True)
        detail = ("CASE coalesce(reason, dup_reason) WHEN 'unparseable' THEN CASE WHEN bad_utf8 THEN "
                  "'the line is not valid UTF-8' ELSE 'unbalanced double quotes (values spanning lines are not "
                  "supported)' END "
                  f"WHEN 'wrong_field_count' THEN 'expected {layout.field_count} fields' "
                  f"WHEN 'empty_split_value' THEN {ql(spec.split_column + ' is empty')} "
                  f"WHEN 'empty_key' THEN {ql(spec.key_column + ' is empty')} "
                  "ELSE 'superseded by a later line; winning line ' || winner_line END")
        con.execute(f"""COPY (SELECT {ql(spec.name)} AS dataset, {ql(run_id)} AS run_id,
                                     {ql(source_uri)} AS source_file, n AS line,
                                     coalesce(reason, dup_reason) AS reason, {detail} AS detail, line AS record
                              FROM classified WHERE reason IS NOT NULL OR dup_reason IS NOT NULL ORDER BY n)
                        TO {ql(str(rejects_dir / 'rejects.json'))} (FORMAT json)""")
        seconds["write_rejects"] = round(time.perf_counter() - t0, 2)
    con.close()
    return {**result, "table_created": created, "seconds": seconds}


def _copy_rejects(con, proof: dict[str, Any], rejects_dir: Path, run_id: str,
                  seconds: dict[str, float]) -> dict[str, Any] | None:
    """The proven load's result, its rejects copied with this run's id; None when they are not all there."""
    result = proof["result"]
    t0 = time.perf_counter()
    if result["rows_rejected"]:
        earlier = Path(result["rejects_location"]) / "rejects.json"
        if not earlier.is_file():
            return None
        scan = f"read_json({ql(str(earlier))}, format='newline_delimited')"
        if con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0] != result["rows_rejected"]:
            return None
        rejects_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * REPLACE ({ql(run_id)} AS run_id) FROM {scan} ORDER BY line) "
                    f"TO {ql(str(rejects_dir / 'rejects.json'))} (FORMAT json)")
        result = {**result, "rejects_location": str(rejects_dir) + "/"}
        seconds["write_rejects"] = round(time.perf_counter() - t0, 2)
    return {**result, "table_created": False, "seconds": seconds}


def table_scan(table_dir: Path, split_column: str) -> str | None:
    """A DuckDB table expression over the current version of a reference table (None: no table)."""
    table = Table(table_dir, split_column)
    files = table.files()
    return table.scan(files) if files is not None else None
