"""The ledger: one Iceberg table per dataset listing every source version a run dealt with.

`<table>_ledger` in the dataset's database (or S3 Tables namespace), beside the table it describes: the
ingest job's role may already create and write tables there, Lake Formation and Athena see it like any
table of the dataset, and its name says which table it is the ledger of.

One row per run that reached a verdict on a source version: which object version (bucket, key, version id,
ETag, S3 sequencer and event time), which run and when, the outcome and the row counts (0, never NULL).
The ingest job asks `find_loaded` before loading: a version already on the ledger as loaded, unchanged or
rejected_all is not loaded again (a replay, a duplicate run). `record` appends after the data commit with
a MERGE that inserts only when no such entry exists, so two runs of one version racing each other leave
one entry: the MERGE is a row-level operation Iceberg validates (serializable), its conflict filter is
that one version, and the loser is redone by lakepipe.commit_retry and then finds the winner's entry.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any

from lakepipe.commit_retry import RetryPolicy, with_commit_retries
from lakepipe.spec import DatasetSpec

log = logging.getLogger("lakepipe.ledger")

SUFFIX = "_ledger"
LOADED = "loaded"  # the run committed new or changed rows
UNCHANGED = "unchanged"  # good rows, but the table already held them, or newer sources' values (lakepipe.ordering)
REJECTED_ALL = "rejected_all"  # every data line was rejected: nothing to load
FAILED = "failed"  # the run failed; the version may be loaded again
DONE = (LOADED, UNCHANGED, REJECTED_ALL)  # a version with one of these is not loaded twice

COLUMNS = {  # name -> Spark SQL type, in table order
    "dataset": "STRING",
    "source_bucket": "STRING",
    "source_key": "STRING",
    "source_version": "STRING",
    "source_etag": "STRING",
    "source_sequencer": "STRING",
    "source_event_time": "TIMESTAMP",
    "run_id": "STRING",
    "loaded_at": "TIMESTAMP",
    "status": "STRING",
    "rows_read": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_rejected": "BIGINT",
    "rows_changed": "BIGINT",
    "error": "STRING",
}


def ledger_table_name(spec: DatasetSpec, glue_catalog: str = "glue_catalog",
                      s3tables_catalog: str = "s3tables_catalog") -> str:
    """Quoted `catalog`.`database`.`<table>_ledger`, in the catalog of the dataset's table."""
    from sqlglot import exp

    catalog = glue_catalog if spec.target == "glue" else s3tables_catalog
    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect="spark")
                    for p in (catalog, spec.database, spec.table + SUFFIX))


def split_source_uri(source_uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key); any other URI or path -> ("", itself)."""
    if source_uri.startswith("s3://"):
        bucket, _, key = source_uri[len("s3://"):].partition("/")
        return bucket, key
    return "", source_uri


def status_of(rows_read: int, rows_loaded: int, rows_changed: int) -> str:
    if rows_loaded == 0 and rows_read > 0:
        return REJECTED_ALL
    return LOADED if rows_changed > 0 else UNCHANGED


@dataclass(frozen=True)
class LedgerEntry:
    dataset: str
    source_bucket: str
    source_key: str
    source_version: str
    source_etag: str
    source_sequencer: str | None
    source_event_time: dt.datetime | None
    run_id: str
    loaded_at: dt.datetime
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_changed: int = 0
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in (*DONE, FAILED):
            raise ValueError(f"unknown ledger status {self.status!r}")
        for name in ("rows_read", "rows_loaded", "rows_rejected", "rows_changed"):
            if not isinstance(getattr(self, name), int):  # 0, never None: the ledger's counts are never NULL
                raise TypeError(f"{name} must be an int, got {getattr(self, name)!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _schema():
    from pyspark.sql import types as T

    spark_types = {"STRING": T.StringType(), "TIMESTAMP": T.TimestampType(), "BIGINT": T.LongType()}
    return T.StructType([T.StructField(c, spark_types[t], nullable=True) for c, t in COLUMNS.items()])


def _literal(value: Any) -> str:
    from sqlglot import exp

    return exp.Literal.string(value).sql(dialect="spark")


def ensure_ledger(spark, ledger_table: str) -> None:
    catalog_db = ledger_table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog_db}")
    columns = ", ".join(f"`{c}` {t}" for c, t in COLUMNS.items())
    spark.sql(f"CREATE TABLE IF NOT EXISTS {ledger_table} ({columns}) USING iceberg "
              "TBLPROPERTIES ('format-version' = '2')")


def _version_filter(bucket: str, key: str, version: str, alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return (f"{p}`source_bucket` = {_literal(bucket)} AND {p}`source_key` = {_literal(key)} "
            f"AND {p}`source_version` = {_literal(version)} AND {p}`status` IN ({', '.join(map(_literal, DONE))})")


def find_loaded(spark, ledger_table: str, source_uri: str, source_version: str) -> dict[str, Any] | None:
    """The earliest entry that settled this version (loaded, unchanged, rejected_all), or None: also when
    there is no ledger yet. A `failed` entry does not count: that version is loaded again."""
    bucket, key = split_source_uri(source_uri)
    try:
        spark.catalog.refreshTable(ledger_table)
        rows = spark.sql(f"SELECT * FROM {ledger_table} WHERE {_version_filter(bucket, key, source_version)} "
                         "ORDER BY `loaded_at` LIMIT 1").collect()
    except Exception as e:  # AnalysisException: TABLE_OR_VIEW_NOT_FOUND before the dataset's first run
        if "TABLE_OR_VIEW_NOT_FOUND" in str(e) or "not found" in str(e).lower():
            return None
        raise
    return rows[0].asDict() if rows else None


def record(spark, ledger_table: str, entry: LedgerEntry, *, policy: RetryPolicy | None = None) -> bool:
    """Append `entry` (creating the ledger on first use). A settled entry is inserted only when the version has
    none yet; returns whether this call inserted it. Commit races are redone through lakepipe.commit_retry."""
    view = f"lakepipe_ledger_{abs(hash((entry.run_id, entry.status))):x}"

    def append() -> bool:
        ensure_ledger(spark, ledger_table)
        spark.createDataFrame([tuple(entry.as_dict()[c] for c in COLUMNS)], _schema()).createOrReplaceTempView(view)
        try:
            if entry.status == FAILED:
                spark.sql(f"INSERT INTO {ledger_table} SELECT * FROM `{view}`")
                return True
            before = find_loaded(spark, ledger_table, f"s3://{entry.source_bucket}/{entry.source_key}"
                                 if entry.source_bucket else entry.source_key, entry.source_version)
            if before is not None:
                return False
            # Insert-only MERGEs are planned as plain appends, which Iceberg does not validate against
            # concurrent appends; the never-true WHEN MATCHED clause keeps it a row-level MERGE, whose
            # serializable validation fails the later of two runs writing this version's entry. Its ON names
            # the version by literals, so the conflict filter is that version, not the whole ledger.
            spark.sql(
                f"MERGE INTO {ledger_table} l USING `{view}` s ON "
                + _version_filter(entry.source_bucket, entry.source_key, entry.source_version, alias="l")
                + " WHEN MATCHED AND l.`status` = 'never' THEN DELETE"
                " WHEN NOT MATCHED THEN INSERT *")
            return True
        finally:
            spark.catalog.dropTempView(view)

    inserted, retries = with_commit_retries(append, policy=policy or RetryPolicy(), what=f"the ledger entry of run {entry.run_id}",
                                            before_retry=lambda: spark.catalog.refreshTable(ledger_table))
    log.info("ledger %s: run %s %s (%s, %d commit retries)", ledger_table, entry.run_id, entry.status,
             "recorded" if inserted else "already recorded by another run", retries)
    return inserted
