"""The ingest job: one CSV file -> MERGE INTO the dataset's Iceberg table.

How it works (details and the rejects format in lakepipe/README.md):
0. An s3:// source is first pinned: the exact version the S3 event announced is copied server-side
   to a per-run staging object (lakepipe/staging.py), which Spark reads; it is deleted after the run.
   Reports, rejects and `lakepipe_source_file` keep the original URI and version.
1. Read the file as text lines (`spark.read.text`, which handles LF, CRLF and CR), keeping
   where each line sits: its partition, that partition's first byte offset, its index in the
   partition. This is the only read of the input; the classified lines are cached.
2. The header line (first line of the first block) is matched against the spec (rules.py). A
   missing column fails the run here, before anything is written.
3. Each data line is parsed with `from_csv` against an explicit all-string schema in header order
   (RFC 4180 quoting, `""` escapes) and classified: unparseable (invalid UTF-8, unbalanced
   quotes), wrong field count, empty split, empty key, or -- after a window over the natural key
   ordered by line -- a duplicate superseded by a later line. Blank lines are skipped.
4. ONE aggregate per input partition gives every count and the line offsets of the partitions,
   so rejects carry absolute line numbers without a second pass.
5. The good rows go into the table in one Iceberg commit: an atomic create-with-data when the table
   does not exist, else one MERGE INTO on the natural key that only updates rows whose value differs
   (so a re-load commits nothing). Then, and only then, the rejects go to
   `<rejects_location><dataset>/<run_id>/` as JSON lines (a failed commit leaves no rejects).
6. The report goes to `<runs_location><dataset>/<run_id>/ingest.json`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from lakepipe.rules import HeaderError, line_numbers, match_header, parse_header_line
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


def _read_header(lines, source_uri: str) -> str:
    from pyspark.sql import functions as F

    first = lines.where((F.col("_lp_block") == 0) & (F.col("_lp_idx") == 0)).select("_lp_line").head(1)
    if not first:
        raise HeaderError(f"{source_uri}: the file is empty (no header line); nothing was loaded")
    return first[0][0]


def classify(lines, spec: DatasetSpec, layout):
    """Lines -> one row per physical line with the data columns, `_lp_reason`, `_lp_detail`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    names = layout.positional_names()
    ddl = ", ".join(f"{q(n)} STRING" for n in names) + f", {q(CORRUPT)} STRING"
    options = {
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT,
        "escape": '"',  # RFC 4180: a quote inside a quoted value is written ""
    }
    line = F.col("_lp_line")
    is_header = (F.col("_lp_block") == 0) & (F.col("_lp_idx") == 0)
    is_blank = F.trim(line) == ""
    parsed = lines.withColumn("_lp_rec", F.from_csv(line, ddl, options))
    cols = [F.col("_lp_rec").getField(c).alias(c) for c in spec.data_columns]
    quotes = F.length(line) - F.length(F.regexp_replace(line, '"', ""))
    # Spark keeps a line's raw bytes; decoding them as UTF-8 replaces invalid sequences with
    # U+FFFD, so a line that changes on a decode round trip was not valid UTF-8.
    bad_utf8 = F.decode(line.cast("binary"), "UTF-8") != line
    split_c, key_c = F.col(spec.split_column), F.col(spec.key_column)
    reason = (
        F.when(is_header | is_blank, F.lit(None))
        .when(bad_utf8, F.lit("unparseable"))
        .when(quotes % 2 == 1, F.lit("unparseable"))
        .when(F.col("_lp_bad_fields"), F.lit("wrong_field_count"))
        .when(split_c.isNull() | (F.trim(split_c) == ""), F.lit("empty_split_value"))
        .when(key_c.isNull() | (F.trim(key_c) == ""), F.lit("empty_key"))
    )
    detail = (
        F.when(bad_utf8, F.lit("the line is not valid UTF-8"))
        .when(quotes % 2 == 1, F.lit("unbalanced double quotes (values spanning lines are not supported)"))
        .when(F.col("_lp_bad_fields"), F.lit(f"expected {layout.field_count} fields"))
        .when(split_c.isNull() | (F.trim(split_c) == ""), F.lit(f"{spec.split_column} is empty"))
        .when(key_c.isNull() | (F.trim(key_c) == ""), F.lit(f"{spec.key_column} is empty"))
    )
    kind = F.when(is_header, F.lit("header")).when(is_blank, F.lit("blank")).otherwise(F.lit("data"))
    corrupt = F.col("_lp_rec").getField(CORRUPT).isNotNull().alias("_lp_bad_fields")
    staged = parsed.select("_lp_line", "_lp_pid", "_lp_block", "_lp_idx", *cols, corrupt).select(
        "*", kind.alias("_lp_kind"), reason.alias("_lp_reason"), detail.alias("_lp_detail")
    )
    # Duplicates: among valid data lines, the last line of a natural key wins. Lines that are not
    # candidates get their own window group (_lp_grp = their position) so they neither take part
    # nor pile up in one null-key partition.
    candidate = (F.col("_lp_kind") == "data") & F.col("_lp_reason").isNull()
    pos = F.struct(F.col("_lp_block"), F.col("_lp_idx"), F.col("_lp_pid"))
    staged = staged.withColumn("_lp_grp", F.when(candidate, F.lit(None)).otherwise(pos))
    w = Window.partitionBy(*[F.col(c) for c in spec.natural_key], F.col("_lp_grp")).orderBy(
        F.col("_lp_block").desc(), F.col("_lp_idx").desc()
    )
    value_c = F.col(spec.value_column)
    rn = F.row_number().over(w)
    winner_value = F.first(value_c).over(w)
    winner_pos = F.first(pos).over(w)
    # All three window functions in ONE select over the same spec: one shuffle, one sort, one
    # Window operator (a withColumn chain left projections between them: two Window operators).
    staged = staged.select("*", rn.alias("_lp_rn"), winner_value.alias("_lp_winner_value"),
                           winner_pos.alias("_lp_winner_pos"))
    superseded = candidate & (F.col("_lp_rn") > 1)
    dup_reason = F.when(value_c.eqNullSafe(F.col("_lp_winner_value")), F.lit("duplicate_row")).otherwise(
        F.lit("duplicate_key"))
    classified = staged.select(
        *[c for c in staged.columns if c not in ("_lp_reason", "_lp_detail", "_lp_grp", "_lp_rn",
                                                  "_lp_winner_value", "_lp_bad_fields")],
        F.when(superseded, dup_reason).otherwise(F.col("_lp_reason")).alias("_lp_reason"),
        F.when(superseded, F.lit("superseded by a later line")).otherwise(F.col("_lp_detail")).alias("_lp_detail"),
    )
    return classified


def _stats(classified) -> tuple[dict[int, int], dict[str, int], int, int, int]:
    """One aggregate: per-partition line counts (-> offsets) and every count of the report."""
    from pyspark.sql import functions as F

    reason_names = ["unparseable", "wrong_field_count", "empty_split_value", "empty_key", "duplicate_key", "duplicate_row"]
    aggs = [
        F.count(F.lit(1)).alias("lines"),
        F.sum(F.when(F.col("_lp_kind") == "data", 1).otherwise(0)).alias("data"),
        F.sum(F.when(F.col("_lp_kind") == "blank", 1).otherwise(0)).alias("blank"),
        F.sum(F.when((F.col("_lp_kind") == "data") & F.col("_lp_reason").isNull(), 1).otherwise(0)).alias("good"),
    ] + [F.sum(F.when(F.col("_lp_reason") == r, 1).otherwise(0)).alias(r) for r in reason_names]
    rows = classified.groupBy("_lp_pid").agg(F.min("_lp_block").alias("block"), *aggs).collect()
    offsets = line_numbers([(r["_lp_pid"], r["block"], r["lines"]) for r in rows])
    by_reason = {r: sum(row[r] for row in rows) for r in reason_names}
    by_reason = {k: v for k, v in by_reason.items() if v}
    return offsets, by_reason, sum(r["data"] for r in rows), sum(r["good"] for r in rows), sum(r["blank"] for r in rows)


def _line_number(offsets: dict[int, int], pid_col: str, idx_col: str):
    """1-based physical line number from (partition, index in partition) and the partition offsets."""
    from pyspark.sql import functions as F

    mapping = F.create_map(*[x for pid, off in sorted(offsets.items()) for x in (F.lit(pid), F.lit(off))])
    return mapping[F.col(pid_col)] + F.col(idx_col) + F.lit(1)


def write_rejects(classified, offsets, spec: DatasetSpec, uri: str, *, source_uri: str, source_version: str,
                  run_id: str, n_rejected: int) -> None:
    from pyspark.sql import functions as F

    line_no = _line_number(offsets, "_lp_pid", "_lp_idx")
    winner_no = F.when(
        F.col("_lp_reason").isin("duplicate_key", "duplicate_row"),
        _line_number(offsets, "_lp_winner_pos._lp_pid", "_lp_winner_pos._lp_idx"),
    )
    detail = F.concat_ws(
        "; ", F.col("_lp_detail"), F.when(winner_no.isNotNull(), F.concat(F.lit("winning line "), winner_no.cast("string")))
    )
    rejects = classified.where(F.col("_lp_reason").isNotNull()).select(
        F.lit(spec.name).alias("dataset"),
        F.lit(run_id).alias("run_id"),
        F.lit(source_uri).alias("source_file"),
        F.lit(source_version).alias("source_version"),
        line_no.alias("line"),
        F.col("_lp_reason").alias("reason"),
        detail.alias("detail"),
        F.col("_lp_line").alias("record"),
    )
    parts = max(1, min(16, n_rejected // 200_000 + 1))
    rejects.orderBy("line").coalesce(parts).write.mode("overwrite").json(uri)


def _merge_sql(spec: DatasetSpec, table: str, source_view: str) -> str:
    on = [f"t.{q(spec.split_column)} = s.{q(spec.split_column)}"]
    on += [f"t.{q(c)} <=> s.{q(c)}" for c in spec.id_columns]  # id columns may be empty (null)
    on += [f"t.{q(spec.key_column)} = s.{q(spec.key_column)}"]
    all_cols = [*spec.data_columns, *METADATA_COLUMNS]
    updates = [q(spec.value_column), *[q(c) for c in METADATA_COLUMNS]]
    return (
        f"MERGE INTO {table} t USING {q(source_view)} s ON " + " AND ".join(on)
        + f" WHEN MATCHED AND NOT (t.{q(spec.value_column)} <=> s.{q(spec.value_column)}) THEN UPDATE SET "
        + ", ".join(f"t.{c} = s.{c}" for c in updates)
        + " WHEN NOT MATCHED THEN INSERT (" + ", ".join(q(c) for c in all_cols) + ") VALUES ("
        + ", ".join(f"s.{q(c)}" for c in all_cols) + ")"
    )


def _table_exists(spark, table: str) -> bool:
    try:
        spark.sql(f"DESCRIBE TABLE {table}").limit(0).collect()
        return True
    except Exception as e:  # AnalysisException: TABLE_OR_VIEW_NOT_FOUND
        if "TABLE_OR_VIEW_NOT_FOUND" in str(e) or "not found" in str(e).lower():
            return False
        raise


def load_into_table(spark, good, spec: DatasetSpec, table: str, run_id: str) -> bool:
    """At most one Iceberg commit. Returns True when this run created the table."""
    from pyspark.sql import functions as F

    catalog_db = table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog_db}")
    if not _table_exists(spark, table):
        try:
            (
                good.writeTo(table)
                .using("iceberg")
                .partitionedBy(good[spec.split_column])
                .tableProperty("format-version", "2")
                .tableProperty("write.distribution-mode", "hash")
                # Split values are data: a long or odd one must not become a directory name
                # (255-byte file names, 1024-byte S3 keys). Object-storage layout without
                # partition values in paths keeps data file paths short and hashed.
                .tableProperty("write.object-storage.enabled", "true")
                .tableProperty("write.object-storage.partitioned-paths", "false")
                .create()  # Iceberg stages the table: created with its data in one commit, or not at all
            )
            return True
        except Exception as e:
            if "already exists" not in str(e).lower():
                raise
            log.info("table %s was created concurrently; merging instead", table)
    # Only rows that are new or whose value differs go into the MERGE: with copy-on-write, every
    # data file holding a matched key would otherwise be rewritten, and a re-load of the same
    # file would commit a snapshot with identical rows. Nothing changed -> no commit at all.
    target = spark.table(table).alias("t")
    src = good.alias("s")
    cond = [F.col(f"t.{spec.split_column}") == F.col(f"s.{spec.split_column}"),
            F.col(f"t.{spec.key_column}") == F.col(f"s.{spec.key_column}"),
            F.col(f"t.{spec.value_column}").eqNullSafe(F.col(f"s.{spec.value_column}"))]
    cond += [F.col(f"t.{c}").eqNullSafe(F.col(f"s.{c}")) for c in spec.id_columns]
    changes = src.join(target, on=cond, how="left_anti").localCheckpoint(eager=True)
    if changes.isEmpty():
        log.info("no new or changed rows for %s; nothing to commit", table)
        return False
    view = "lakepipe_src_" + hashlib.sha256(run_id.encode()).hexdigest()[:16]
    changes.createOrReplaceTempView(view)
    try:
        spark.sql(_merge_sql(spec, table, view))
    finally:
        spark.catalog.dropTempView(view)
    return False


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
) -> IngestResult:
    """Load one file. `read_uri` is where Spark reads it (the pinned staging copy of an s3:// source);
    `source_uri`/`source_version` are what the reports, rejects and `lakepipe_source_file` record."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    table = table_name(spec, glue_catalog, s3tables_catalog)
    ingested_at = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    lines = _read_lines(spark, read_uri or source_uri)
    header = parse_header_line(_read_header(lines, source_uri))
    layout = match_header(header, spec, source_uri)  # raises HeaderError naming file + columns
    if layout.ignored:
        log.warning("%s: ignoring columns not in the dataset: %s", source_uri, list(layout.ignored))

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        seconds[name] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        log.info("%s: %.2fs", name, seconds[name])

    classified = classify(lines, spec, layout).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        offsets, by_reason, rows_read, rows_good, blank = _stats(classified)
        lap("read_classify_count")
        n_rejected = sum(by_reason.values())
        good = classified.where((F.col("_lp_kind") == "data") & F.col("_lp_reason").isNull()).select(
            *[F.col(c) for c in spec.data_columns],
            F.lit(source_uri).alias(SOURCE_FILE),
            F.lit(ingested_at).cast("timestamp").alias(INGESTED_AT),
            F.lit(run_id).alias(RUN_ID),
        )
        # MERGE refuses a source whose plan holds non-deterministic expressions (the line
        # positions come from spark_partition_id/monotonically_increasing_id), even when cached.
        # A local checkpoint of the good rows, taken from the cache, cuts that lineage; if an
        # executor is lost before the MERGE commits, the run fails and the table is unchanged.
        good = good.localCheckpoint(eager=True)
        lap("checkpoint_good_rows")
        created = load_into_table(spark, good, spec, table, run_id)
        lap("commit" if created else "diff_and_merge")
        # Rejects only after the commit: a run whose commit fails leaves no rejects for rows that
        # were never loaded. If writing them fails, the run fails with its good rows committed;
        # loading the same file again is a no-op for the table and writes the rejects.
        rejects_uri = None
        if n_rejected:
            rejects_uri = join_uri(rejects_location, spec.name, run_id) + "/"
            write_rejects(classified, offsets, spec, rejects_uri, source_uri=source_uri,
                          source_version=source_version, run_id=run_id, n_rejected=n_rejected)
            lap("write_rejects")
    finally:
        classified.unpersist()
    return IngestResult(
        table=f"{spec.database}.{spec.table}",
        source_uri=source_uri,
        source_version=source_version,
        rows_read=rows_read,
        rows_loaded=rows_good,
        rows_rejected=n_rejected,
        rejects_location=rejects_uri,
        rejects_by_reason=by_reason,
        blank_lines=blank,
        table_created=created,
        seconds=seconds,
    )


def main(spark, args: dict[str, str]) -> dict[str, Any]:
    """Entry point of glue_jobs/ingest_job.py: pin the source version, run, write the report with boto3."""
    import boto3

    from lakepipe.s3util import put_json
    from lakepipe.spec import parse_spec
    from lakepipe.staging import is_s3_uri, remove_staged, stage_source

    spec = parse_spec(args["dataset_spec"])
    s3 = boto3.client("s3")
    source_uri, source_version = args["source_uri"], args.get("source_version", "")
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
            glue_catalog=args.get("glue_catalog") or "glue_catalog",
            s3tables_catalog=args.get("s3tables_catalog") or "s3tables_catalog",
            read_uri=staged.uri if staged else None,
        )
    finally:
        if staged is not None:
            try:
                remove_staged(s3, staged)
            except Exception:  # never hide the run's own outcome; the lifecycle rule is the backstop
                log.exception("could not remove the staged copy %s (version %s); the staging lifecycle rule "
                              "expires it", staged.uri, staged.version_id)
    report = result.report()
    put_json(s3, join_uri(args["runs_location"], spec.name, args["run_id"], "ingest.json"), report)
    print(json.dumps({"lakepipe_ingest_report": report}, ensure_ascii=False))
    return report
