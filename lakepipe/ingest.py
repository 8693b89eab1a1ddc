"""The ingest job: one CSV file -> MERGE INTO the dataset's Iceberg table.

How it works (details and the rejects format in lakepipe/README.md):
0. An s3:// source is first pinned: the exact version the S3 event announced is copied server-side
   to a per-run staging object (lakepipe/staging.py), which Spark reads; it is deleted after the run.
   Reports, rejects and `lakepipe_source_file` keep the original URI and version.
   A re-load of the same bytes, spec and order onto the snapshot the earlier load made (its proof is in the
   snapshot's summary) reads nothing else, commits nothing and copies that load's rejects (lakepipe.reload).
1. Read the file as text lines (`spark.read.text`, which handles LF, CRLF and CR), keeping
   where each line sits: its partition, that partition's first byte offset, its index in the
   partition.
2. The header line (first line of the first block) is matched against the spec (rules.py). A
   missing column fails the run here, before anything is written.
3. Each data line is split into fields (a line without `"` on commas; a line with quotes by
   `from_csv` against an explicit all-string schema in header order: RFC 4180 quoting, `""` escapes)
   and classified: unparseable (invalid UTF-8, unbalanced quotes), wrong field count, empty split,
   empty key, or -- after a window over the natural key ordered by line -- a duplicate superseded by
   a later line. Blank lines are skipped. The classified rows are narrow (position, data columns, a
   reject code) and cached: the one materialisation of the run.
4. ONE aggregate per input partition gives every count, the file's split values and the line
   offsets of the partitions, so rejects carry absolute line numbers.
5. The good rows, each with its source's order (lakepipe.ordering: the S3 event's time and sequencer),
   go into the table in one Iceberg commit: an atomic create-with-data when the table does not exist,
   else the diff (a left join on the natural key with one snapshot of the table's rows of the file's split
   values) keeps the rows the source is newer than (unordered loads: whose value differs), so a re-load or
   an older file commits nothing, and the split partitions those rows touch are rewritten in one overwrite
   validated against the diff's snapshot (a MERGE INTO when a partition only gains keys or the table has
   columns the file lacks). A load that loses a commit race with a concurrent run is redone against the
   new snapshot (lakepipe.commit_retry). Then, and only then, the rejects go to
   `<rejects_location><dataset>/<run_id>/` as JSON lines (a failed commit leaves no rejects), their raw
   text from a second read of the file joined on (partition, index).
6. The report goes to `<runs_location><dataset>/<run_id>/ingest.json`, and the run's entry to the
   dataset's ledger (lakepipe.ledger). A version the ledger already lists as settled is not loaded again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lakepipe import jsonsource, ledger, ordering, quality, reload
from lakepipe.commit_retry import with_commit_retries
from lakepipe.ordering import SourceOrder
from lakepipe.rules import REASONS, HeaderError, line_numbers, match_header, parse_header_line
from lakepipe.s3util import join_uri
from lakepipe.spec import METADATA_COLUMNS, DatasetSpec

log = logging.getLogger("lakepipe.ingest")

SOURCE_FILE, INGESTED_AT, RUN_ID = METADATA_COLUMNS
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
CORRUPT = "_lp_corrupt"


class IngestError(RuntimeError):
    pass


def q(name: str) -> str:
    """Backtick-quote an identifier from the validated spec/arguments (never from data)."""
    if not _IDENT.match(name):
        raise IngestError(f"refusing unsafe identifier {name!r}")
    return f"`{name}`"


def table_name(spec: DatasetSpec, glue_catalog: str, s3tables_catalog: str) -> str:
    catalog = glue_catalog if spec.target == "glue" else s3tables_catalog
    return ".".join(q(p) for p in (catalog, spec.database, spec.table))


@dataclass
class IngestResult:
    table: str
    source_uri: str
    source_version: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejects_location: str | None
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    blank_lines: int = 0
    table_created: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    rows_changed: int = 0  # rows this run inserted or updated (0: the table already held them, or newer values)
    already_loaded: dict[str, Any] | None = None  # the ledger entry that settled this version, when skipped
    commit_retries: int = 0  # loads redone after losing a commit race with a concurrent run
    extra_columns: list[str] = field(default_factory=list)  # header names the dataset does not have
    extra_columns_kept: dict[str, str] = field(default_factory=dict)  # keep_extra_columns: table column -> header
    quality: list[dict[str, Any]] = field(default_factory=list)  # one result per quality rule (lakepipe.quality)
    unchanged_since_run: str | None = None  # the run whose commit proved this re-load a no-op (lakepipe.reload)

    def report(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source_uri": self.source_uri,
            "source_version": self.source_version,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rejects_location": self.rejects_location,
            "rejects_by_reason": self.rejects_by_reason,
            "blank_lines": self.blank_lines,
            "table_created": self.table_created,
            "seconds": self.seconds,
            "rows_changed": self.rows_changed,
            "already_loaded": self.already_loaded,
            "commit_retries": self.commit_retries,
            "extra_columns": self.extra_columns,
            "extra_columns_kept": self.extra_columns_kept,
            "quality": self.quality,
            "unchanged_since_run": self.unchanged_since_run,
        }


def _read_lines(spark, source_uri: str):
    from pyspark.sql import functions as F

    return spark.read.text(source_uri).select(
        F.col("value").alias("_lp_line"),
        F.spark_partition_id().alias("_lp_pid"),
        F.col("_metadata.file_block_start").alias("_lp_block"),
        # monotonically_increasing_id = (partition id << 33) + index in partition
        (F.monotonically_increasing_id() - F.shiftleft(F.spark_partition_id().cast("long"), 33)).alias("_lp_idx"),
    )


def _read_records(spark, source_uri: str):
    """RFC 4180 records, each with its exact text (the line breaks inside quoted values as the file has
    them: LF, CRLF or CR) and its first physical line; the same columns as _read_lines, with `_lp_pid`
    and `_lp_block` 0 and `_lp_idx` the first line's number - 1 (so the offsets of _stats are 0), plus
    `_lp_bad_utf8` (the text went through string functions that replace invalid bytes).

    A record ends at the first line break outside quotes, so whether a line starts a record depends on
    the parity of every `"` before it in the file. The file is read split on LF only (a CRLF leaves its CR
    at the end of the row; a lone CR inside a row is a line break too), each input block is scanned in
    order by a window, and one small aggregate per block carries the parity, the line count and the last
    record start into the next block, so a record may span blocks."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    text = F.col("value")
    cr_end = text.endswith("\r")
    body = F.when(cr_end, F.expr("substring(value, 1, length(value) - 1)")).otherwise(text)
    rows = spark.read.option("lineSep", "\n").text(source_uri).select(
        F.col("_metadata.file_block_start").alias("blk"),
        (F.monotonically_increasing_id() - F.shiftleft(F.spark_partition_id().cast("long"), 33)).alias("idx"),
        (F.decode(text.cast("binary"), "UTF-8") != text).alias("bad_utf8"),
        cr_end.alias("cr_end"),
        F.when(body.contains("\r"), F.split(body, "\r", -1)).otherwise(F.array(body)).alias("parts"),
    )
    physical = rows.select("blk", "idx", "bad_utf8", "cr_end", F.size("parts").alias("n"),
                           F.posexplode("parts").alias("sub", "text"))
    # The break after a physical line: a lone CR inside the row, else the row's CRLF or LF.
    term = F.when(F.col("sub") < F.col("n") - 1, F.lit("\r")).when(F.col("cr_end"), F.lit("\r\n")).otherwise(
        F.lit("\n"))
    quotes = (F.length("text") - F.length(F.regexp_replace("text", '"', ""))) % 2
    in_block = Window.partitionBy("blk").orderBy("idx", "sub")
    before = F.coalesce(F.sum("q").over(in_block.rowsBetween(Window.unboundedPreceding, -1)), F.lit(0)) % 2
    local_no = F.row_number().over(in_block)
    upto = Window.partitionBy("blk").orderBy("no").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    physical = physical.select("blk", "idx", "sub", "text", term.alias("term"), "bad_utf8", quotes.alias("q"))
    numbered = physical.select("*", before.alias("before"), local_no.alias("no"))
    scanned = numbered.select(
        "blk", "no", "text", "term", "bad_utf8", "q",
        # the last record start so far in the block, if the block starts outside (h0) or inside (h1) quotes
        F.last(F.when(F.col("before") == 0, F.col("no")), ignorenulls=True).over(upto).alias("start_h0"),
        F.last(F.when(F.col("before") == 1, F.col("no")), ignorenulls=True).over(upto).alias("start_h1"),
    ).persist(StorageLevel.MEMORY_AND_DISK)
    blocks = scanned.groupBy("blk").agg(
        F.count(F.lit(1)).alias("lines"), (F.sum("q") % 2).alias("parity"),
        F.max_by("start_h0", "no").alias("last_h0"), F.max_by("start_h1", "no").alias("last_h1"),
    ).collect()
    state, offset, carried = 0, 0, None
    inside, offsets, carried_in = {}, {}, {}
    for b in sorted(blocks, key=lambda r: r["blk"]):
        inside[b["blk"]], offsets[b["blk"]], carried_in[b["blk"]] = state, offset, carried
        last = b["last_h1"] if state else b["last_h0"]
        if last is not None:
            carried = offset + last
        state ^= b["parity"]
        offset += b["lines"]

    def per_block(values: dict[int, Any]):
        pairs = [x for k, v in values.items() if v is not None for x in (F.lit(k), F.lit(v))]
        return F.create_map(*pairs)[F.col("blk")] if pairs else F.lit(None)

    starts_inside = per_block(inside) == 1
    offset_c = per_block(offsets)
    start = F.when(starts_inside, F.col("start_h1")).otherwise(F.col("start_h0"))
    record = F.coalesce(offset_c + start, per_block(carried_in)).cast("long")
    line_no = offset_c + F.col("no")
    parts = scanned.select(record.alias("rec"), line_no.alias("no"), "text", "term", "bad_utf8",
                           # a line that starts its record and holds an even number of quotes ends it: a record of
                           # one line (most of them) needs no grouping, only the lines of longer records are shuffled
                           F.coalesce((record == line_no) & (F.col("q") == 0), F.lit(False)).alias("single"))
    single = parts.where("single").select(F.col("text").alias("_lp_line"), "rec", F.col("bad_utf8").alias("_lp_bad_utf8"))
    grouped = parts.where(~F.col("single")).groupBy("rec").agg(
        F.sort_array(F.collect_list(F.struct("no", "text", "term"))).alias("ls"), F.max("bad_utf8").alias("_lp_bad_utf8"))
    joined = F.expr("array_join(transform(ls, (l, i) -> if(i < size(ls) - 1, concat(l.text, l.term), l.text)), '')")
    records = single.unionByName(grouped.select(joined.alias("_lp_line"), "rec", "_lp_bad_utf8"))
    return records.select("_lp_line", F.lit(0).alias("_lp_pid"), F.lit(0).cast("long").alias("_lp_block"),
                          (F.col("rec") - 1).alias("_lp_idx"), "_lp_bad_utf8"), scanned


def _read_header(lines, source_uri: str) -> str:
    from pyspark.sql import functions as F

    first = lines.where((F.col("_lp_block") == 0) & (F.col("_lp_idx") == 0)).select("_lp_line").head(1)
    if not first:
        raise HeaderError(f"{source_uri}: the file is empty (no header line); nothing was loaded")
    return first[0][0]


# Reject codes in the cached rows (a byte instead of two strings per row) and their reasons (rules.REASONS).
BAD_UTF8, BAD_QUOTES, BAD_FIELDS, EMPTY_SPLIT, EMPTY_KEY, DUP_KEY, DUP_ROW, BAD_JSON = range(1, 9)
REASON_OF_CODE = {BAD_UTF8: "unparseable", BAD_QUOTES: "unparseable", BAD_FIELDS: "wrong_field_count",
                  EMPTY_SPLIT: "empty_split_value", EMPTY_KEY: "empty_key", DUP_KEY: "duplicate_key",
                  DUP_ROW: "duplicate_row", BAD_JSON: "unparseable"}
KIND_DATA, KIND_HEADER, KIND_BLANK = 0, 1, 2
MAX_PRUNED_SPLIT_VALUES = 1000
# Up to this many changed rows, their keys are broadcast to the partition rewrite's anti join, so the table's
# side is not shuffled; more, and both sides are shuffled. Measured (lakepipe/README.md "Performance"): 200k
# keys 4.56-4.78 -> 3.92-3.94 s; 2M keys no gain (48.3 s broadcast vs 44.7 s shuffled).
BROADCAST_CHANGED_KEYS = 1_000_000


def classify(lines, spec: DatasetSpec, layout):
    """CSV lines (records) -> one narrow row per line: its position, the data columns, `_lp_kind`,
    `_lp_code` (reject code, null = good) and, for a superseded duplicate, `_lp_winner_pos`.
    The raw line is not carried: only rejects need it, and write_rejects reads it again."""
    from pyspark.sql import functions as F

    line = F.col("_lp_line")
    has_quote = line.contains('"')
    # Most lines hold no quote: a plain split on commas reads them exactly as `from_csv` would (no
    # trimming, empty field = null). Only lines with a quote pay for the CSV parser (RFC 4180 quoting,
    # `""` escapes) and the quote count. Measured at 1M lines: split 0.6 s CPU, from_csv 1.7 s.
    names = layout.positional_names()
    ddl = ", ".join(f"{q(n)} STRING" for n in names) + f", {q(CORRUPT)} STRING"
    options = {
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT,
        "escape": '"',  # RFC 4180: a quote inside a quoted value is written ""
    }
    parsed = lines.select(
        "*",
        F.when(has_quote, F.from_csv(line, ddl, options)).alias("_lp_rec"),
        F.split(line, ",", -1).alias("_lp_split"),
        has_quote.alias("_lp_has_quote"),
    )
    quoted = F.col("_lp_has_quote")
    split_fields = F.col("_lp_split")

    def field(name: str):
        plain = split_fields.getItem({**layout.positions, **layout.kept}[name])
        return F.when(quoted, F.col("_lp_rec").getField(name)).otherwise(F.when(plain != "", plain)).alias(name)

    bad_fields = F.when(quoted, F.col("_lp_rec").getField(CORRUPT).isNotNull()).otherwise(
        F.size(split_fields) != layout.field_count)
    odd_quotes = quoted & ((F.length(line) - F.length(F.regexp_replace(line, '"', ""))) % 2 == 1)
    # Spark keeps a line's raw bytes; decoding them as UTF-8 replaces invalid sequences with
    # U+FFFD, so a line that changes on a decode round trip was not valid UTF-8.
    bad_utf8 = F.decode(line.cast("binary"), "UTF-8") != line
    if "_lp_bad_utf8" in lines.columns:  # records: their text went through string functions
        bad_utf8 = F.col("_lp_bad_utf8")
    is_header = (F.col("_lp_block") == 0) & (F.col("_lp_idx") == 0)
    kind = F.when(is_header, F.lit(KIND_HEADER)).when(F.trim(line) == "", F.lit(KIND_BLANK)).otherwise(
        F.lit(KIND_DATA)).cast("byte")
    columns = [*spec.data_columns, *layout.kept]  # kept extra columns ride along with the data
    staged = parsed.select("_lp_pid", "_lp_block", "_lp_idx", *[field(c) for c in columns],
                           kind.alias("_lp_kind"), bad_utf8.alias("_lp_bad_utf8"), odd_quotes.alias("_lp_odd"),
                           bad_fields.alias("_lp_bad_fields"), F.lit(False).alias("_lp_bad_json"))
    return _classify(staged, spec, columns)


def classify_json(records, spec: DatasetSpec):
    """JSON records -> the rows of lakepipe.jsonsource.flatten, classified like CSV lines (a record that is
    not a JSON object: unparseable); rows of one record are ordered by `_lp_sub` for "last wins"."""
    from pyspark.sql import functions as F

    line = F.col("_lp_line")
    bad_utf8 = (F.decode(line.cast("binary"), "UTF-8") != line).alias("_lp_bad_utf8")
    rows = jsonsource.flatten(records.select("*", bad_utf8), spec)
    blank = F.col(jsonsource.MALFORMED).isNull()  # a blank NDJSON line
    staged = rows.select(
        "_lp_pid", "_lp_block", "_lp_idx", "_lp_sub", *spec.data_columns,
        F.when(blank, F.lit(KIND_BLANK)).otherwise(F.lit(KIND_DATA)).cast("byte").alias("_lp_kind"),
        "_lp_bad_utf8", F.lit(False).alias("_lp_odd"), F.lit(False).alias("_lp_bad_fields"),
        F.coalesce(F.col(jsonsource.MALFORMED), F.lit(False)).alias("_lp_bad_json"))
    return _classify(staged, spec, list(spec.data_columns))


def _classify(staged, spec: DatasetSpec, columns: list[str]):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    split_c, key_c = F.col(spec.split_column), F.col(spec.key_column)
    code = (
        F.when(F.col("_lp_kind") != KIND_DATA, F.lit(None))
        .when(F.col("_lp_bad_utf8"), F.lit(BAD_UTF8))
        .when(F.col("_lp_bad_json"), F.lit(BAD_JSON))
        .when(F.col("_lp_odd"), F.lit(BAD_QUOTES))
        .when(F.col("_lp_bad_fields"), F.lit(BAD_FIELDS))
        .when(split_c.isNull() | (F.trim(split_c) == ""), F.lit(EMPTY_SPLIT))
        .when(key_c.isNull() | (F.trim(key_c) == ""), F.lit(EMPTY_KEY))
    ).cast("byte")
    sub = [c for c in ("_lp_sub",) if c in staged.columns]  # JSON: rows of one record, in order
    staged = staged.select("_lp_pid", "_lp_block", "_lp_idx", *sub, *columns, "_lp_kind", code.alias("_lp_code"),
                           "_lp_odd")
    # Duplicates: among valid data lines, the last line of a natural key wins. Lines that are not
    # candidates get their own window group (_lp_grp = their position) so they neither take part
    # nor pile up in one null-key partition.
    candidate = (F.col("_lp_kind") == KIND_DATA) & F.col("_lp_code").isNull()
    pos = F.struct(F.col("_lp_block"), F.col("_lp_idx"), F.col("_lp_pid"))
    own_group = F.struct(F.col("_lp_block"), F.col("_lp_idx"), F.col("_lp_pid"), *[F.col(c) for c in sub])
    staged = staged.withColumn("_lp_grp", F.when(candidate, F.lit(None)).otherwise(own_group))
    w = Window.partitionBy(*[F.col(c) for c in spec.natural_key], F.col("_lp_grp")).orderBy(
        F.col("_lp_block").desc(), F.col("_lp_idx").desc(), *[F.col(c).desc() for c in sub]
    )
    # An exact repeat (duplicate_row) has the same value and the same kept extra columns as the winner.
    extras = [c for c in columns if c not in spec.data_columns]
    value_c = F.struct(spec.value_column, *extras) if extras else F.col(spec.value_column)
    # All three window functions in ONE select over the same spec: one shuffle, one sort, one
    # Window operator (a withColumn chain left projections between them: two Window operators).
    staged = staged.select("*", F.row_number().over(w).alias("_lp_rn"),
                           F.first(value_c).over(w).alias("_lp_winner_value"), F.first(pos).over(w).alias("_lp_wpos"))
    superseded = candidate & (F.col("_lp_rn") > 1)
    dup_code = F.when(value_c.eqNullSafe(F.col("_lp_winner_value")), F.lit(DUP_ROW)).otherwise(F.lit(DUP_KEY))
    return staged.select(
        "_lp_pid", "_lp_block", "_lp_idx", *columns, "_lp_kind", "_lp_odd",
        F.when(superseded, dup_code.cast("byte")).otherwise(F.col("_lp_code")).alias("_lp_code"),
        F.when(superseded, F.col("_lp_wpos")).alias("_lp_winner_pos"),
    )


@dataclass
class FileStats:
    offsets: dict[int, int]  # partition id -> physical lines before it
    by_reason: dict[str, int]
    rows_read: int
    rows_good: int
    blank: int
    split_values: list[str]
    odd_quote_lines: int  # lines with an odd number of `"`: a value spanning lines, or a broken quote
    quality: list[quality.RuleResult] = field(default_factory=list)


def _stats(classified, spec: DatasetSpec) -> FileStats:
    """One aggregate: per-partition line counts (-> offsets), every count of the report, the file's
    split values (they bound the MERGE's read of the table) and what the quality rules count."""
    from pyspark.sql import functions as F

    split_column = spec.split_column
    kind, code = F.col("_lp_kind"), F.col("_lp_code")
    aggs = [
        # Physical lines in the partition (its indexes are 0..n-1), not rows: a JSON record may give several.
        (F.max("_lp_idx") + 1).alias("lines"),
        F.sum(F.when(kind == KIND_DATA, 1).otherwise(0)).alias("data"),
        F.sum(F.when(kind == KIND_BLANK, 1).otherwise(0)).alias("blank"),
        F.sum(F.when((kind == KIND_DATA) & code.isNull(), 1).otherwise(0)).alias("good"),
        F.sum(F.when(F.col("_lp_odd"), 1).otherwise(0)).alias("odd"),
        F.collect_set(F.when((kind == KIND_DATA) & code.isNull(), F.col(split_column))).alias("splits"),
    ] + [F.sum(F.when(code == c, 1).otherwise(0)).alias(f"code{c}") for c in REASON_OF_CODE]
    aggs += quality.aggregates(spec, (kind == KIND_DATA) & code.isNull(), code == DUP_KEY)
    rows = classified.groupBy("_lp_pid").agg(F.min("_lp_block").alias("block"), *aggs).collect()
    offsets = line_numbers([(r["_lp_pid"], r["block"], r["lines"]) for r in rows])
    by_reason: dict[str, int] = {}
    for c, reason in REASON_OF_CODE.items():
        by_reason[reason] = by_reason.get(reason, 0) + sum(row[f"code{c}"] for row in rows)
    by_reason = {r: by_reason[r] for r in REASONS if by_reason.get(r)}
    rows_read, rows_good = sum(r["data"] for r in rows), sum(r["good"] for r in rows)
    return FileStats(offsets=offsets, by_reason=by_reason, rows_read=rows_read, rows_good=rows_good,
                     blank=sum(r["blank"] for r in rows), split_values=sorted({v for row in rows for v in row["splits"]}),
                     odd_quote_lines=sum(r["odd"] for r in rows),
                     quality=quality.evaluate(spec, rows, offsets, rows_read=rows_read, rows_loaded=rows_good,
                                              rows_rejected=sum(by_reason.values())))


def _line_number(offsets: dict[int, int], pid_col: str, idx_col: str):
    """1-based physical line number from (partition, index in partition) and the partition offsets."""
    from pyspark.sql import functions as F

    mapping = F.create_map(*[x for pid, off in sorted(offsets.items()) for x in (F.lit(pid), F.lit(off))])
    return mapping[F.col(pid_col)] + F.col(idx_col) + F.lit(1)


def write_rejects(source, classified, offsets, spec: DatasetSpec, layout, uri: str, *,
                  source_uri: str, source_version: str, run_id: str, n_rejected: int) -> None:
    """The rejected lines (records), with their raw text from `source` evaluated again (a second read of
    the file). Spark plans the same splits for the same file, so (partition, index) names the same line
    in both reads."""
    from pyspark.sql import functions as F

    code = F.col("_lp_code")
    bad = classified.where(code.isNotNull()).select("_lp_pid", "_lp_idx", "_lp_code", "_lp_winner_pos")
    raw = source.select("_lp_pid", "_lp_idx", "_lp_line")
    joined = raw.join(bad if n_rejected > 100_000 else F.broadcast(bad), ["_lp_pid", "_lp_idx"])
    line_no = _line_number(offsets, "_lp_pid", "_lp_idx")
    winner_no = _line_number(offsets, "_lp_winner_pos._lp_pid", "_lp_winner_pos._lp_idx")
    reason = F.create_map(*[x for c, r in REASON_OF_CODE.items() for x in (F.lit(c), F.lit(r))])[code]
    detail = (
        F.when(code == BAD_UTF8, F.lit("the line is not valid UTF-8"))
        .when(code == BAD_QUOTES, F.lit("a quoted value opened in this record is not closed before the end of the file"))
        .when(code == BAD_JSON, F.lit("not a JSON object"))
        .when(code == BAD_FIELDS, F.lit(f"expected {layout.field_count if layout else 0} fields"))
        .when(code == EMPTY_SPLIT, F.lit(f"{spec.split_column} is empty"))
        .when(code == EMPTY_KEY, F.lit(f"{spec.key_column} is empty"))
        .otherwise(F.concat(F.lit("superseded by a later line; winning line "), winner_no.cast("string")))
    )
    rejects = joined.select(
        F.lit(spec.name).alias("dataset"),
        F.lit(run_id).alias("run_id"),
        F.lit(source_uri).alias("source_file"),
        F.lit(source_version).alias("source_version"),
        line_no.alias("line"),
        reason.alias("reason"),
        detail.alias("detail"),
        F.col("_lp_line").alias("record"),
    )
    write_rejects_json(rejects, uri, n_rejected)


def write_rejects_json(rejects, uri: str, n_rejected: int) -> None:
    """Rejects ordered by line: up to 200,000 in one file sorted in one task (no range-partitioning pass over
    the data), more by a global sort."""
    if n_rejected <= 200_000:
        rejects.coalesce(1).sortWithinPartitions("line").write.mode("overwrite").json(uri)
    else:
        rejects.orderBy("line").coalesce(min(16, n_rejected // 200_000 + 1)).write.mode("overwrite").json(uri)


# Adaptive execution makes a sort-merge join a shuffled hash join when every shuffle partition of its build side
# holds at most this threshold of (compressed) shuffled rows, and the advisory partition size is not above it.
# A hash map takes ~11x its partition's shuffled bytes here (1M rows: 5.5 MB per partition, ~60 MB of map) and
# cannot spill: 8 MB keeps each task's map under ~100 MB. Measured: 32 MB let 3M rows on a 1 GB local driver
# fail building the map (SparkOutOfMemoryError); larger partitions keep the sort-merge join, which spills.
SMALL_HASH_JOIN = {"spark.sql.adaptive.maxShuffledHashJoinLocalMapThreshold": "8MB",
                   "spark.sql.adaptive.advisoryPartitionSizeInBytes": "8MB"}


@contextmanager
def sql_conf(spark, settings: dict[str, str]):
    """Session SQL settings for the statements run inside the block, restored after it."""
    before = {k: spark.conf.get(k, None) for k in settings}
    for k, v in settings.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def _table_exists(spark, table: str) -> bool:
    try:
        spark.sql(f"DESCRIBE TABLE {table}").limit(0).collect()
        return True
    except Exception as e:  # AnalysisException: TABLE_OR_VIEW_NOT_FOUND
        if "TABLE_OR_VIEW_NOT_FOUND" in str(e) or "not found" in str(e).lower():
            return False
        raise


def load_into_table(spark, good, spec: DatasetSpec, table: str, run_id: str, *,
                    split_values: list[str] | None = None, ordered: bool = False,
                    extra_columns: tuple[str, ...] = (),
                    commit_properties: dict[str, str] | None = None) -> tuple[bool, int | None]:
    """At most one Iceberg commit of data. Returns (this run created the table, rows inserted or updated;
    None when it created the table with all of `good`). `split_values` (the file's) bound the table rows the
    diff reads; None reads all. `ordered`: the rows carry their source's order, and only a newer source
    replaces a row. `extra_columns` (keep_extra_columns) are in `good`: added to an existing table first
    (neither the rewrite nor the MERGE evolves the schema), then written like the value.
    An existing table takes the changed rows by rewrite_partitions, or by a MERGE when the table has columns
    this file does not write. `commit_properties` go into the commit's snapshot summary (the create's and the
    rewrite's; a MERGE in SQL cannot carry them)."""
    options = {f"snapshot-property.{k}": v for k, v in (commit_properties or {}).items()}
    catalog_db = table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog_db}")
    if not _table_exists(spark, table):
        try:
            (
                good.writeTo(table)
                .using("iceberg")
                .options(**options)
                .partitionedBy(good[spec.split_column])
                .tableProperty("format-version", "2")
                # Measured (lakepipe/README.md, "Performance"): hash distribution (one file per split
                # value and task) was as fast as a fanout write without the shuffle; merge-on-read
                # saved no measurable MERGE time over copy-on-write and would need compaction.
                .tableProperty("write.distribution-mode", "hash")
                .tableProperty("write.merge.mode", "copy-on-write")
                .tableProperty("write.parquet.compression-codec", "zstd")
                # Split values are data: a long or odd one must not become a directory name
                # (255-byte file names, 1024-byte S3 keys). Object-storage layout without
                # partition values in paths keeps data file paths short and hashed.
                .tableProperty("write.object-storage.enabled", "true")
                .tableProperty("write.object-storage.partitioned-paths", "false")
                .create()  # Iceberg stages the table: created with its data in one commit, or not at all
            )
            return True, None
        except Exception as e:
            if "already exists" not in str(e).lower():
                raise
            log.info("table %s was created concurrently; merging instead", table)
    added = ordering.ensure_order_columns(spark, table)  # a table from before ordering: rows read NULL order
    if added:
        log.info("added the order columns %s to %s", added, table)
    added = ensure_extra_columns(spark, table, extra_columns)
    if added:
        log.info("added the extra columns %s to %s", added, table)
    # Only rows that would be inserted or updated are committed: a re-load of the same file (or an older
    # file) would otherwise commit a snapshot with identical rows. Nothing changed -> no commit at all.
    # The diff and the rewrite read one snapshot, the one the rewrite's commit is validated from.
    # The diff's join: a shuffled hash join (no sort of either side) when adaptive execution sees that every
    # shuffle partition of the table's side is small enough to hold as a hash map; otherwise a sort-merge
    # join, which spills (a hash join cannot). 1M rows: the re-load's diff 2.2-2.6 -> 1.9-2.1 s warm, 3.4 -> 2.8 s
    # in `make bench` (lakepipe/README.md "Performance").
    snapshot_id, _ = ordering.table_state(spark, table)
    with sql_conf(spark, SMALL_HASH_JOIN):
        changes = changed_rows(spark, good, spec, table, ordered, split_values,
                               extra_columns, snapshot_id=snapshot_id).localCheckpoint(eager=True)
    changed, updated = count_changes(changes, spec)
    if not changed:
        log.info("no new, changed or newer rows for %s; nothing to commit", table)
        return False, 0
    if rewrite_partitions(spark, changes, changed, updated, spec, table, snapshot_id, options):
        return False, changed
    view = "lakepipe_src_" + hashlib.sha256(run_id.encode()).hexdigest()[:16]
    changes.createOrReplaceTempView(view)
    try:
        spark.sql(merge_sql(spec, table, view, ordered, extra_columns))
    finally:
        spark.catalog.dropTempView(view)
    log.info("merged %d changed rows into %s", changed, table)
    return False, changed


def ensure_extra_columns(spark, table: str, columns: tuple[str, ...]) -> list[str]:
    """Add the kept extra columns the table lacks, as strings (existing rows read NULL). Names come from
    file headers through lakepipe.naming (safe) and are quoted by sqlglot all the same. A concurrent run
    adding the same column first is fine. Returns what this call added."""
    from sqlglot import exp

    present = {f.name for f in spark.table(table).schema.fields}
    missing = [c for c in columns if c not in present]
    if not missing:
        return []
    ddl = ", ".join(f"{exp.to_identifier(c, quoted=True).sql(dialect='spark')} STRING" for c in missing)
    try:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({ddl})")
    except Exception:
        spark.catalog.refreshTable(table)
        if {c for c in missing if c not in {f.name for f in spark.table(table).schema.fields}}:
            raise
        return []
    spark.catalog.refreshTable(table)
    return missing


def replace_condition(spec: DatasetSpec, ordered: bool, extra_columns: tuple[str, ...]):
    """When a matched row takes the source's row: ordering.replace_condition, and for an unordered load also
    when a kept extra column of the file differs (the MERGE writes them like the value, so a change in one
    alone is a change). Ordered loads replace on a newer source whatever the values."""
    from sqlglot import exp

    condition = ordering.replace_condition(spec, ordered)
    if ordered or not extra_columns:
        return condition
    differs = [exp.not_(exp.NullSafeEQ(this=exp.column(c, table="t", quoted=True),
                                       expression=exp.column(c, table="s", quoted=True))) for c in extra_columns]
    return exp.or_(condition, *differs)


def count_changes(changes, spec: DatasetSpec) -> tuple[int, dict[str, bool]]:
    """One pass over changed_rows' output: (rows, {split value: whether it has an updated key, not only new
    ones})."""
    from pyspark.sql import functions as F

    per_split = changes.groupBy(spec.split_column).agg(F.count(F.lit(1)), F.max(ordering.MATCHED)).collect()
    return sum(r[1] for r in per_split), {r[0]: bool(r[2]) for r in per_split}


def rewrite_partitions(spark, changes, changed: int, updated: dict[str, bool], spec: DatasetSpec, table: str,
                       snapshot_id: int | None, options: dict[str, str] | None = None) -> bool:
    """Commit `changes` (the `changed` rows that win against the table's, from changed_rows on `snapshot_id`;
    `updated` from count_changes) by rewriting the split partitions they touch: the partitions' rows at that
    snapshot without the changed keys, plus the changes, replace those partitions in one overwrite. The commit
    is validated (serializable, from `snapshot_id`) against any data added to or deleted from those partitions
    since: a concurrent run's commit there fails this one with a ValidationException and the load is redone
    (commit_retry), so a stale diff never lands. A copy-on-write MERGE rewrites the data files holding an
    updated key; with a file per partition that is the same write, without the MERGE's second and third reads
    of the table. So this returns False without committing, leaving the load to the MERGE, when a touched
    partition only gains new keys (the MERGE adds a file there, it does not rewrite the partition) or when
    the table has columns the changes lack (kept extra columns of other files, which a matched row keeps)."""
    from pyspark.sql import functions as F

    target = ordering.table_at(spark, table, snapshot_id)
    if not set(target.columns) <= set(changes.columns):
        return False
    if not all(updated.values()):
        return False
    in_touched = F.col(spec.split_column).isin(list(updated))
    keys = changes.select(spec.split_column, *spec.id_columns, spec.key_column)
    if changed <= BROADCAST_CHANGED_KEYS:
        keys = F.broadcast(keys)  # the table's side is then read without a shuffle
    kept = target.where(in_touched).alias("t").join(
        keys.alias("s"), on=F.expr(ordering.key_match(spec).sql(dialect="spark")), how="left_anti")
    writer = (kept.unionByName(changes.select(*target.columns)).writeTo(table).options(**(options or {}))
              .option("isolation-level", "serializable"))
    if snapshot_id is not None:
        writer = writer.option("validate-from-snapshot-id", str(snapshot_id))
    writer.overwrite(in_touched)
    log.info("rewrote %d split partition(s) of %s with %d changed rows", len(updated), table, changed)
    return True


def changed_rows(spark, good, spec: DatasetSpec, table: str, ordered: bool, split_values: list[str] | None,
                 extra_columns: tuple[str, ...], snapshot_id: int | None = None):
    """ordering.changed_rows with replace_condition: the rows of `good` the MERGE would insert or update
    (ordering.diff against the table's rows of the file's split values), with ordering.MATCHED."""
    from pyspark.sql import functions as F

    if not extra_columns:
        return ordering.changed_rows(spark, good, spec, table, ordered, split_values, snapshot_id=snapshot_id)
    target = ordering.table_at(spark, table, snapshot_id)
    if split_values is not None:
        target = target.where(F.col(spec.split_column).isin(split_values))
    target = target.select(*spec.data_columns, *extra_columns, SOURCE_FILE, *ordering.SOURCE_ORDER_COLUMNS)
    return ordering.diff(good, target, spec, replace_condition(spec, ordered, extra_columns))


def merge_sql(spec: DatasetSpec, table: str, view: str, ordered: bool, extra_columns: tuple[str, ...]) -> str:
    """ordering.merge_sql, with the kept extra columns also updated and inserted and taking part in the
    matched row's condition (replace_condition); edited as a sqlglot tree, so the names are quoted like
    every other."""
    import sqlglot
    from sqlglot import exp

    text = ordering.merge_sql(spec, table, view, ordered)
    if not extra_columns:
        return text
    merge = sqlglot.parse_one(text, read="spark")
    for when in merge.find_all(exp.When):
        then = when.args["then"]
        if isinstance(then, exp.Update):
            when.set("condition", replace_condition(spec, ordered, extra_columns))
        for c in extra_columns:
            if isinstance(then, exp.Update):
                then.append("expressions", exp.EQ(this=exp.column(c, table="t", quoted=True),
                                                  expression=exp.column(c, table="s", quoted=True)))
            elif isinstance(then, exp.Insert):
                then.this.append("expressions", exp.to_identifier(c, quoted=True))
                then.expression.append("expressions", exp.column(c, table="s", quoted=True))
    return merge.sql(dialect="spark")


def run_ingest(
    spark,
    spec: DatasetSpec,
    *,
    source_uri: str,
    source_version: str,
    run_id: str,
    rejects_location: str,
    glue_catalog: str = "glue_catalog",
    s3tables_catalog: str = "s3tables_catalog",
    now: dt.datetime | None = None,
    read_uri: str | None = None,
    source_order: SourceOrder | None = None,
    s3_client: Any = None,
) -> IngestResult:
    """Load one file. `read_uri` is where Spark reads it (the pinned staging copy of an s3:// source);
    `source_uri`/`source_version` are what the reports, rejects and `lakepipe_source_file` record;
    `source_order` (the S3 event's time and sequencer) decides against rows from other sources (None: a
    differing value replaces the row, as for a local file). A re-load the table's current snapshot proves
    a no-op reads only the file's bytes (lakepipe.reload); `s3_client` reads them from S3."""
    table = table_name(spec, glue_catalog, s3tables_catalog)
    started = time.perf_counter()
    # The checksum runs beside Spark's work: the commit's proof needs it, the no-op check first of all.
    pool = ThreadPoolExecutor(1, thread_name_prefix="lakepipe-checksum")
    try:
        checksum = pool.submit(reload.file_sha256, read_uri or source_uri, s3_client)
        logic = reload.logic_sha256(spec, spark.version)
        unchanged = _unchanged(spark, spec, table, checksum, logic, source_uri=source_uri,
                               source_version=source_version, run_id=run_id, rejects_location=rejects_location,
                               source_order=source_order, glue_catalog=glue_catalog,
                               s3tables_catalog=s3tables_catalog, s3_client=s3_client, started=started)
        if unchanged is not None:
            return unchanged
        return _load_file(spark, spec, table, checksum, logic, source_uri=source_uri, source_version=source_version,
                          run_id=run_id, rejects_location=rejects_location, now=now, read_uri=read_uri,
                          source_order=source_order)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _unchanged(spark, spec: DatasetSpec, table: str, checksum: Future, logic: str, *, source_uri: str,
               source_version: str, run_id: str, rejects_location: str, source_order: SourceOrder | None,
               glue_catalog: str, s3tables_catalog: str, s3_client: Any, started: float) -> IngestResult | None:
    """The run's result when the table's current snapshot proves this load a no-op (lakepipe.reload), its
    rejects copied; None otherwise."""
    catalog = glue_catalog if spec.target == "glue" else s3tables_catalog
    snapshot_id, proof, columns = reload.current_proof(spark, catalog, spec.database, spec.table)
    if proof is None:
        return None
    why_not = proof.proves(source_uri=source_uri, order=reload.order_of(source_order), logic_sha256=logic,
                           table_columns=columns) or (
        None if proof.source_sha256 == checksum.result() else "the file's bytes differ")
    if why_not:
        log.info("%s: the snapshot %s of %s does not prove this load a no-op (%s); loading the file", source_uri,
                 snapshot_id, table, why_not)
        return None
    seconds = {"unchanged_check": round(time.perf_counter() - started, 2)}
    rejects_uri = None
    if proof.rejects_uri:
        t0 = time.perf_counter()
        rejects_uri = join_uri(rejects_location, spec.name, run_id) + "/"
        if not reload.copy_rejects(spark, proof, rejects_uri, run_id=run_id, source_version=source_version,
                                   write=write_rejects_json, s3_client=s3_client):
            return None
        seconds["write_rejects"] = round(time.perf_counter() - t0, 2)
    log.info("%s: the same bytes, spec and order as run %s loaded into the snapshot %s of %s, which is still "
             "current; nothing to read or commit", source_uri, proof.run_id, snapshot_id, table)
    return IngestResult(table=f"{spec.database}.{spec.table}", source_uri=source_uri, source_version=source_version,
                        rejects_location=rejects_uri, table_created=False, seconds=seconds, rows_changed=0,
                        unchanged_since_run=proof.run_id, **proof.result)


def _load_file(spark, spec: DatasetSpec, table: str, checksum: Future, logic: str, *, source_uri: str,
               source_version: str, run_id: str, rejects_location: str, now: dt.datetime | None,
               read_uri: str | None, source_order: SourceOrder | None) -> IngestResult:
    """run_ingest's load: read, classify, count, commit (with the proof of what it loaded), rejects."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    ingested_at = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    lines = _read_lines(spark, read_uri or source_uri)
    if spec.format == "json":
        first = lines.where((F.col("_lp_block") == 0) & (F.col("_lp_idx") == 0)).select("_lp_line").head(1)
        lines = jsonsource.read_records(spark, read_uri or source_uri, first[0][0] if first else None)
        header, layout = [], None
    else:
        header = parse_header_line(_read_header(lines, source_uri))
        layout = match_header(header, spec, source_uri)  # raises HeaderError naming file + columns
    kept = dict(layout.kept) if layout else {}
    if layout and layout.ignored:
        log.warning("%s: ignoring columns not in the dataset: %s", source_uri, list(layout.ignored))
    if kept:
        log.info("%s: keeping extra columns %s", source_uri, kept)

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        seconds[name] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        log.info("%s: %.2fs", name, seconds[name])

    # The one materialisation: the classified narrow rows, read by the counts, the load and the rejects.
    # Lines first: a file without a line of odd quote count has no value spanning lines, and each line
    # is a record. Otherwise the file is read again as RFC 4180 records (_read_records).
    source, scanned = lines, None
    classified = (classify_json(source, spec) if layout is None else classify(source, spec, layout)).persist(
        StorageLevel.MEMORY_AND_DISK)
    try:
        stats = _stats(classified, spec)
        if stats.odd_quote_lines and layout is not None:
            log.info("%s: %d line(s) with an odd number of quotes; reading the file as multi-line records",
                     source_uri, stats.odd_quote_lines)
            classified.unpersist()
            source, scanned = _read_records(spark, read_uri or source_uri)
            classified = classify(source, spec, layout).persist(StorageLevel.MEMORY_AND_DISK)
            stats = _stats(classified, spec)
        offsets, by_reason, split_values = stats.offsets, stats.by_reason, stats.split_values
        rows_read, rows_good, blank = stats.rows_read, stats.rows_good, stats.blank
        lap("read_classify_count")
        quality.raise_on_errors(stats.quality, source_uri)  # before anything is committed
        n_rejected = sum(by_reason.values())
        good = classified.where((F.col("_lp_kind") == KIND_DATA) & F.col("_lp_code").isNull()).select(
            *[F.col(c) for c in [*spec.data_columns, *kept]],
            F.lit(source_uri).alias(SOURCE_FILE),
            F.lit(ingested_at).cast("timestamp").alias(INGESTED_AT),
            F.lit(run_id).alias(RUN_ID),
            *ordering.order_columns(source_order),
        )
        # A file with very many split values reads the whole table rather than carry a huge IN list.
        prune = split_values if len(split_values) <= MAX_PRUNED_SPLIT_VALUES else None
        rejects_uri = join_uri(rejects_location, spec.name, run_id) + "/" if n_rejected else None
        counts = {"rows_read": rows_read, "rows_loaded": rows_good, "rows_rejected": n_rejected,
                  "rejects_by_reason": by_reason, "blank_lines": blank,
                  "extra_columns": list(layout.extra) if layout else [],
                  "extra_columns_kept": {c: header[i] for c, i in kept.items()},
                  "quality": [r.as_dict() for r in stats.quality]}

        def load() -> tuple[bool, int | None]:
            proof = reload.LoadProof(run_id=run_id, source_uri=source_uri, source_sha256=checksum.result(),
                                     logic_sha256=logic, order=reload.order_of(source_order), columns=good.columns,
                                     rejects_uri=rejects_uri, result=counts)
            return load_into_table(spark, good, spec, table, run_id, split_values=prune,
                                   ordered=source_order is not None, extra_columns=tuple(kept),
                                   commit_properties={reload.PROPERTY: proof.to_property()})

        # A concurrent run of this dataset may commit first: the load is redone on the new snapshot.
        (created, rows_changed), commit_retries = with_commit_retries(
            load, what=f"the load into {table}", before_retry=lambda: spark.sql(f"REFRESH TABLE {table}"))
        lap("commit" if created else "diff_and_merge")
        # Rejects only after the commit: a run whose commit fails leaves no rejects for rows that
        # were never loaded. If writing them fails, the run fails with its good rows committed;
        # loading the same file again is a no-op for the table and writes the rejects.
        if rejects_uri:
            write_rejects(source, classified, offsets, spec, layout, rejects_uri,
                          source_uri=source_uri, source_version=source_version, run_id=run_id,
                          n_rejected=n_rejected)
            lap("write_rejects")
    finally:
        classified.unpersist()
        if scanned is not None:
            scanned.unpersist()
    return IngestResult(
        table=f"{spec.database}.{spec.table}",
        source_uri=source_uri,
        source_version=source_version,
        rejects_location=rejects_uri,
        table_created=created,
        seconds=seconds,
        rows_changed=rows_good if rows_changed is None else rows_changed,
        commit_retries=commit_retries,
        **counts,
    )


def main(spark, args: dict[str, str]) -> dict[str, Any]:
    """Entry point of glue_jobs/ingest_job.py: pin the source version, run, write the report with boto3."""
    import boto3

    from lakepipe.spec import parse_spec
    from lakepipe.staging import is_s3_uri, remove_staged, stage_source

    spec = parse_spec(args["dataset_spec"])
    s3 = boto3.client("s3")
    source_uri, source_version = args["source_uri"], args.get("source_version", "")
    source_order = SourceOrder.from_args(args)
    glue_catalog = args.get("glue_catalog") or "glue_catalog"
    s3tables_catalog = args.get("s3tables_catalog") or "s3tables_catalog"
    ledger_table = ledger.ledger_table_name(spec, glue_catalog, s3tables_catalog)
    quality_table = quality.quality_table_name(spec, glue_catalog, s3tables_catalog)

    def record_quality(results: list[quality.RuleResult]) -> None:
        quality.emit_failed_rule_metrics(args.get("metrics_namespace"), spec.name, results)
        quality.record(spark, quality_table, spec, results, run_id=args["run_id"], source_uri=source_uri,
                       source_version=source_version)
    settled = ledger.find_loaded(spark, ledger_table, source_uri, source_version)
    if settled is not None:
        # A replay or a second run of a version the ledger lists: the run loads nothing and succeeds.
        log.info("%s version %s was already %s by run %s; nothing to do", source_uri, source_version,
                 settled["status"], settled["run_id"])
        result = IngestResult(table=f"{spec.database}.{spec.table}", source_uri=source_uri,
                              source_version=source_version, rows_read=0, rows_loaded=0, rows_rejected=0,
                              rejects_location=None, already_loaded={
                                  k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in settled.items()
                                  if k in ("run_id", "status", "loaded_at", "rows_loaded", "rows_rejected")})
        return _report(s3, spec, args, result)
    entry = _ledger_entry(spec, args, source_order)
    staged = None
    if is_s3_uri(source_uri):
        # Without a staging location the job could only read the key's latest version, which may
        # not be the announced one: refuse rather than load the wrong version silently.
        if not args.get("staging_location"):
            raise IngestError(f"{source_uri}: --staging_location is required for s3:// sources (the job reads a "
                              "pinned copy of the announced version); nothing was loaded")
        staged = stage_source(s3, source_uri, version=source_version, etag=args.get("source_etag", ""),
                              staging_location=args["staging_location"], dataset=spec.name, run_id=args["run_id"])
    try:
        result = run_ingest(
            spark,
            spec,
            source_uri=source_uri,
            source_version=source_version,
            run_id=args["run_id"],
            rejects_location=args["rejects_location"],
            glue_catalog=glue_catalog,
            s3tables_catalog=s3tables_catalog,
            read_uri=staged.uri if staged else None,
            source_order=source_order,
            s3_client=s3,
        )
    except Exception as e:
        try:  # the ledger lists failed runs too; that must never hide the run's own error
            ledger.record(spark, ledger_table, entry(ledger.FAILED, error=f"{type(e).__name__}: {e}"[:2000]))
        except Exception:
            log.exception("could not write the failed run to the ledger %s", ledger_table)
        if isinstance(e, quality.QualityError):
            try:  # the results that failed the run, like any run's
                record_quality(e.results)
            except Exception:
                log.exception("could not write the quality results to %s", quality_table)
        raise
    finally:
        if staged is not None:
            try:
                remove_staged(s3, staged)
            except Exception:  # never hide the run's own outcome; the lifecycle rule is the backstop
                log.exception("could not remove the staged copy %s (version %s); the staging lifecycle rule "
                              "expires it", staged.uri, staged.version_id)
    # After the data commit and the rejects: a run that fails before this point is not settled on the
    # ledger, and running it again is a no-op for the table that writes what is missing.
    ledger.record(spark, ledger_table, entry(ledger.status_of(result.rows_read, result.rows_loaded, result.rows_changed),
                                             rows_read=result.rows_read, rows_loaded=result.rows_loaded,
                                             rows_rejected=result.rows_rejected, rows_changed=result.rows_changed))
    record_quality([quality.RuleResult(**r) for r in result.quality])
    return _report(s3, spec, args, result)


def _ledger_entry(spec: DatasetSpec, args: dict[str, str], order: SourceOrder | None):
    """The run's ledger entry but for its outcome: entry(status, **counts) -> ledger.LedgerEntry."""
    bucket, key = ledger.split_source_uri(args["source_uri"])

    def entry(status: str, **outcome: Any) -> ledger.LedgerEntry:
        return ledger.LedgerEntry(
            dataset=spec.name, source_bucket=bucket, source_key=key, source_version=args.get("source_version", ""),
            source_etag=args.get("source_etag", ""), source_sequencer=order.sequencer if order else None,
            source_event_time=order.event_time if order else None, run_id=args["run_id"],
            loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None), status=status, **outcome)
    return entry


def _report(s3, spec: DatasetSpec, args: dict[str, str], result: IngestResult) -> dict[str, Any]:
    from lakepipe.s3util import put_json

    report = result.report()
    put_json(s3, join_uri(args["runs_location"], spec.name, args["run_id"], "ingest.json"), report)
    print(json.dumps({"lakepipe_ingest_report": report}, ensure_ascii=False))
    return report
