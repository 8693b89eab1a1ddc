"""Which source wins a row: the guard that keeps an older file from overwriting a newer one.

The rule (README "Ordering"):
- Same S3 key: the object version whose S3 event carries the greater `sequencer` wins. S3 documents
  the sequencer as the way to order events of one key only, and says to compare sequencers after right-padding
  the shorter with zeros (Amazon S3 user guide, "Event message structure").
- Different files touching one natural key: the later upload wins, i.e. the greater S3 `eventTime` ("when
  Amazon S3 finished processing the request"); equal times are broken by the source URI, then the sequencer,
  so the outcome never depends on which run finishes last.

The guard lives in the row: each row carries its source's order (SOURCE_ORDER_COLUMNS: the event time as a
TIMESTAMP, the sequencer upper-cased and right-padded to SEQUENCER_WIDTH so string order is the S3 order,
and `lakepipe_source_file`, which is already there), and the MERGE updates a matched row only when the
incoming source is newer than the row's. Two runs that change the same rows at once conflict in Iceberg's
validation; the loser is redone (lakepipe.commit_retry) against the winner's rows, so the guard is evaluated
against whatever committed first.
Rows without an order (tables loaded before this rule, or a load run without an S3 event's order) lose to
any ordered source; a load without an order (a local file, a manual run) keeps the previous rule: a value
that differs replaces the row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakepipe.spec import METADATA_COLUMNS, SOURCE_ORDER_COLUMNS, DatasetSpec

SOURCE_FILE = METADATA_COLUMNS[0]
SOURCE_EVENT_TIME, SOURCE_SEQUENCER = SOURCE_ORDER_COLUMNS
SEQUENCER_WIDTH = 64  # S3's are 16-20 hex digits today; room for them to grow without changing stored values
MATCHED = "_lp_matched"  # diff's flag on a changed row: the table holds its key (an update, not an insert)
ORDER_COLUMN_TYPES = {SOURCE_EVENT_TIME: "TIMESTAMP", SOURCE_SEQUENCER: "STRING"}
_HEX = re.compile(r"^[0-9A-Fa-f]+$")

if TYPE_CHECKING:
    from sqlglot import exp
# sqlglot is imported inside the SQL builders only: the trigger Lambda imports this module for
# SourceOrder, and its zip carries no sqlglot (only the Glue zip vendors it).


class OrderError(ValueError):
    pass


def normalize_sequencer(sequencer: str) -> str:
    """Upper-case, right-padded with zeros to SEQUENCER_WIDTH: plain string comparison is then S3's order
    ("first right pad the shorter value with zeros, and then do a lexicographical comparison")."""
    if not _HEX.match(sequencer or ""):
        raise OrderError(f"S3 sequencer {sequencer!r} is not a hexadecimal string")
    if len(sequencer) > SEQUENCER_WIDTH:
        raise OrderError(f"S3 sequencer {sequencer!r} is longer than {SEQUENCER_WIDTH} digits")
    return sequencer.upper().ljust(SEQUENCER_WIDTH, "0")


def parse_event_time(event_time: str) -> dt.datetime:
    """S3 eventTime (ISO 8601, e.g. 1970-01-01T00:00:00.000Z) -> naive UTC datetime (as `lakepipe_ingested_at`)."""
    try:
        parsed = dt.datetime.fromisoformat(event_time)
    except (AttributeError, ValueError) as e:
        raise OrderError(f"S3 eventTime {event_time!r} is not an ISO 8601 time") from e
    if parsed.tzinfo is None:
        raise OrderError(f"S3 eventTime {event_time!r} has no time zone")
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def format_event_time(event_time: dt.datetime) -> str:
    """Inverse of parse_event_time, milliseconds as S3 writes them."""
    return event_time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event_time.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class SourceOrder:
    """Where one source version stands: its S3 event's time (naive UTC) and normalised sequencer."""

    event_time: dt.datetime
    sequencer: str

    @classmethod
    def from_event(cls, event_time: str, sequencer: str) -> SourceOrder:
        return cls(parse_event_time(event_time), normalize_sequencer(sequencer))

    @classmethod
    def from_args(cls, args: dict[str, str]) -> SourceOrder | None:
        """The job's --source_event_time/--source_sequencer; None when either is absent or empty (a load
        not started by an S3 event), which keeps the unordered rule."""
        event_time, sequencer = args.get("source_event_time") or "", args.get("source_sequencer") or ""
        if not event_time or not sequencer:
            return None
        return cls.from_event(event_time, sequencer)


def _quoted(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql(dialect="spark")


def _col(alias: str, name: str) -> exp.Column:
    from sqlglot import exp

    return exp.column(name, table=alias, quoted=True)


def source_is_newer(target: str = "t", source: str = "s") -> exp.Expression:
    """True when the source row's order beats the target row's (never NULL: a NULL target order loses)."""
    from sqlglot import exp

    t_time, s_time = _col(target, SOURCE_EVENT_TIME), _col(source, SOURCE_EVENT_TIME)
    t_seq, s_seq = _col(target, SOURCE_SEQUENCER), _col(source, SOURCE_SEQUENCER)
    t_file, s_file = _col(target, SOURCE_FILE), _col(source, SOURCE_FILE)
    same_key = exp.EQ(this=t_file, expression=s_file)
    later_upload = exp.or_(
        exp.GT(this=s_time, expression=t_time),
        exp.and_(exp.EQ(this=s_time, expression=t_time), exp.GT(this=s_file, expression=t_file)),
    )
    newer = exp.or_(
        exp.Is(this=t_time.copy(), expression=exp.Null()),
        exp.and_(same_key.copy(), exp.GT(this=s_seq, expression=t_seq)),
        exp.and_(exp.not_(same_key), later_upload),
    )
    return exp.func("COALESCE", exp.paren(newer), exp.false())


def value_differs(spec: DatasetSpec, target: str = "t", source: str = "s") -> exp.Expression:
    from sqlglot import exp

    return exp.not_(exp.NullSafeEQ(this=_col(target, spec.value_column), expression=_col(source, spec.value_column)))


def replace_condition(spec: DatasetSpec, ordered: bool, target: str = "t", source: str = "s") -> exp.Expression:
    """When a matched row takes the source's row. Ordered: the source is newer (also when the value is equal,
    so the row records the newer source and an older file arriving later cannot win against it).
    Unordered: the value differs (the rule before ordering)."""
    return source_is_newer(target, source) if ordered else value_differs(spec, target, source)


def replace_condition_sql(spec: DatasetSpec, ordered: bool, target: str = "t", source: str = "s") -> str:
    """The MERGE's `WHEN MATCHED AND <this>` and, negated, the diff's join condition, as Spark SQL."""
    return replace_condition(spec, ordered, target, source).sql(dialect="spark")


def key_match(spec: DatasetSpec, target: str = "t", source: str = "s") -> exp.Expression:
    """The natural key, as ingest's MERGE joins it (id columns may be empty, hence null-safe)."""
    from sqlglot import exp

    parts: list[exp.Expression] = [exp.EQ(this=_col(target, spec.split_column), expression=_col(source, spec.split_column))]
    parts += [exp.NullSafeEQ(this=_col(target, c), expression=_col(source, c)) for c in spec.id_columns]
    parts.append(exp.EQ(this=_col(target, spec.key_column), expression=_col(source, spec.key_column)))
    return exp.and_(*parts)


def changed_row_condition(spec: DatasetSpec, replace: exp.Expression) -> exp.Expression:
    """After the diff's left join on key_match: the table has no row of this key (an insert; the key column is
    never NULL in the table), or the source replaces it (`replace`, e.g. replace_condition): exactly the rows
    the MERGE's WHEN NOT MATCHED and WHEN MATCHED AND `replace` take."""
    from sqlglot import exp

    no_row = exp.Is(this=_col("t", spec.key_column), expression=exp.Null())
    return exp.or_(no_row, exp.paren(replace))


def diff(good, target, spec: DatasetSpec, replace: exp.Expression):
    """The rows of `good` that the table `target` (the columns `replace` reads) lacks or that replace its row,
    with MATCHED: whether the table has the row's key (an update) or not (an insert)."""
    from pyspark.sql import functions as F

    joined = good.alias("s").join(target.alias("t"), on=F.expr(key_match(spec).sql(dialect="spark")), how="left")
    changed = changed_row_condition(spec, replace).sql(dialect="spark")
    return joined.where(F.expr(changed)).select("s.*", F.col(f"t.{_quoted(spec.key_column)}").isNotNull().alias(MATCHED))


def table_state(spark, table: str) -> tuple[int | None, int]:
    """(snapshot id, sequence number) of the snapshot the table's `main` branch points at, read fresh
    (current_table); (None, 0) before its first snapshot or without the table. The branch, not the highest
    sequence number: after a rollback the current snapshot is an older one, with its own, lower number."""
    iceberg = current_table(spark, table)
    snapshot = None if iceberg is None else iceberg.currentSnapshot()
    if snapshot is None:
        return None, 0
    return int(snapshot.snapshotId()), int(snapshot.sequenceNumber())


def current_table(spark, table: str):
    """The Iceberg table `table` (catalog.database.table, each part plain or backtick-quoted) as its catalog
    holds it now, through the catalog's Java API (the Java `Table`), or None when it does not exist.
    The catalog's cached copy is dropped first, so a commit made since is seen, and Spark's next read of the
    table loads the same metadata. ~10-30 ms, against 0.2-0.8 s for a metadata table (`refs`) in SQL."""
    from pyspark.errors import AnalysisException

    catalog, database, name = [p.strip("`") for p in table.split(".")]
    jvm = spark._jvm
    namespace = spark.sparkContext._gateway.new_array(jvm.java.lang.String, 1)
    namespace[0] = database
    ident = jvm.org.apache.spark.sql.connector.catalog.Identifier.of(namespace, name)
    java_catalog = spark._jsparkSession.sessionState().catalogManager().catalog(catalog)
    java_catalog.invalidateTable(ident)
    try:
        return java_catalog.loadTable(ident).table()
    except AnalysisException as e:  # PySpark's form of the catalog's NoSuchTableException
        if e.getErrorClass() == "TABLE_OR_VIEW_NOT_FOUND":
            return None
        raise


def table_at(spark, table: str, snapshot_id: int | None):
    """The table as of `snapshot_id` (None: its current state)."""
    reader = spark.read if snapshot_id is None else spark.read.option("snapshot-id", str(snapshot_id))
    return reader.table(table)


def changed_rows(spark, good, spec: DatasetSpec, table: str, ordered: bool, split_values: list[str] | None = None,
                 snapshot_id: int | None = None):
    """The rows of `good` the MERGE would insert or update, with MATCHED (diff): what ingest commits, so a
    reload, or a file older than the table's rows, commits nothing. `good` carries the data,
    METADATA_COLUMNS and SOURCE_ORDER_COLUMNS.
    Only the file's `split_values` (identity partitions: Iceberg skips the other files; None: all) and the
    columns the condition reads are read from the table, as of `snapshot_id` (None: its current state)."""
    from pyspark.sql import functions as F

    target = table_at(spark, table, snapshot_id)
    if split_values is not None:
        target = target.where(F.col(spec.split_column).isin(split_values))
    target = target.select(*spec.data_columns, SOURCE_FILE, *SOURCE_ORDER_COLUMNS)
    return diff(good, target, spec, replace_condition(spec, ordered))


def merge_sql(spec: DatasetSpec, table: str, source_view: str, ordered: bool) -> str:
    """The load's MERGE (ingest._merge_sql with the order guard): every column of the source is written,
    the data, METADATA_COLUMNS and SOURCE_ORDER_COLUMNS; `table` is already quoted."""
    columns = [*spec.data_columns, *METADATA_COLUMNS, *SOURCE_ORDER_COLUMNS]
    updates = [spec.value_column, *METADATA_COLUMNS, *SOURCE_ORDER_COLUMNS]
    return (
        f"MERGE INTO {table} t USING {_quoted(source_view)} s ON {key_match(spec).sql(dialect='spark')}"
        f" WHEN MATCHED AND {replace_condition_sql(spec, ordered)} THEN UPDATE SET "
        + ", ".join(f"t.{_quoted(c)} = s.{_quoted(c)}" for c in updates)
        + " WHEN NOT MATCHED THEN INSERT (" + ", ".join(_quoted(c) for c in columns) + ") VALUES ("
        + ", ".join(f"s.{_quoted(c)}" for c in columns) + ")"
    )


def order_columns(order: SourceOrder | None) -> list:
    """The source's order as literal columns for the rows it loads (typed NULLs when unordered, so a table
    created by an unordered load still gets the columns)."""
    from pyspark.sql import functions as F

    return [
        F.lit(order.event_time if order else None).cast("timestamp").alias(SOURCE_EVENT_TIME),
        F.lit(order.sequencer if order else None).cast("string").alias(SOURCE_SEQUENCER),
    ]


def missing_order_columns(spark, table: str) -> list[str]:
    present = {f.name for f in spark.table(table).schema.fields}
    return [c for c in SOURCE_ORDER_COLUMNS if c not in present]


def ensure_order_columns(spark, table: str) -> list[str]:
    """Add the order columns a table created before this rule lacks (Iceberg schema evolution: existing rows
    read them as NULL). Idempotent; a concurrent run adding them first is fine. Returns what this call added."""
    missing = missing_order_columns(spark, table)
    if not missing:
        return []
    columns = ", ".join(f"{_quoted(c)} {ORDER_COLUMN_TYPES[c]}" for c in missing)
    try:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({columns})")
    except Exception:
        spark.catalog.refreshTable(table)
        if missing_order_columns(spark, table):
            raise
        return []  # another run added them between our look and our ALTER
    spark.catalog.refreshTable(table)
    return missing
