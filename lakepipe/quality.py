"""Data-quality rules of a dataset spec (`quality_rules`), evaluated in the ingest's one aggregate.

Row rules look at the rows a run would load (data lines that passed classification and dedupe):
- not_null: `column` empty or missing;
- accepted_values: `column` set and not one of `values`;
- regex: `column` set and not matching `pattern` (Java regex, found anywhere: anchor with ^...$);
- value_range: the value parses as a number and lies outside [`min`, `max`] (either bound may be absent);
- unique: the natural key is unique once exact repeats are dropped: each line superseded by a later line of
  its key with a different value (reject reason duplicate_key) fails it.
File rules: row_count (rows loaded, `min` and/or `max`) and max_reject_ratio (rejected / read <= `max`).

A failed rule with severity `error` fails the run before anything is committed (QualityError names the
rule, the count and the first line numbers); `warn` is recorded. Every rule's result goes into the run's
report and, one row per rule and run, into `<table>_quality` beside the table (like the ledger), which
Athena reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from lakepipe.spec import DatasetSpec

log = logging.getLogger("lakepipe.quality")

SUFFIX = "_quality"
ROW_RULES = ("not_null", "accepted_values", "regex", "value_range", "unique")  # counted per line
SAMPLES = 5  # line numbers named per failed rule

COLUMNS = {  # name -> Spark SQL type, in table order
    "dataset": "STRING",
    "run_id": "STRING",
    "source_uri": "STRING",
    "source_version": "STRING",
    "checked_at": "TIMESTAMP",
    "rule": "STRING",
    "rule_type": "STRING",
    "severity": "STRING",
    "passed": "BOOLEAN",
    "failing_rows": "BIGINT",
    "sample_lines": "STRING",  # JSON array of line numbers
    "detail": "STRING",
}


class QualityError(RuntimeError):
    """A rule of severity error failed; nothing was committed."""

    def __init__(self, message: str, results: list[RuleResult]):
        super().__init__(message)
        self.results = results


def rule_name(rule: dict[str, Any]) -> str:
    """The rule's `name`, else its type and column (`not_null_value`)."""
    return rule.get("name") or "_".join(p for p in (rule["type"], rule.get("column")) if p)


@dataclass
class RuleResult:
    rule: str
    rule_type: str
    severity: str
    passed: bool
    failing_rows: int
    sample_lines: list[int] = field(default_factory=list)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_failure(rule: dict[str, Any], spec: DatasetSpec):
    """The Spark condition under which a good row fails a row rule (never NULL)."""
    from pyspark.sql import functions as F

    kind = rule["type"]
    if kind == "value_range":
        number = F.expr(f"try_cast(`{spec.value_column}` AS DOUBLE)")
        outside = F.lit(False)
        if rule.get("min") is not None:
            outside = outside | (number < F.lit(float(rule["min"])))
        if rule.get("max") is not None:
            outside = outside | (number > F.lit(float(rule["max"])))
        return number.isNotNull() & outside
    column = F.col(rule["column"])
    if kind == "not_null":
        return column.isNull() | (F.trim(column) == "")
    if kind == "accepted_values":
        return column.isNotNull() & ~column.isin(list(rule["values"]))
    if kind == "regex":
        return column.isNotNull() & ~column.rlike(rule["pattern"])
    raise ValueError(f"not a row rule: {kind}")


def aggregates(spec: DatasetSpec, good, duplicate_key):
    """Per row rule: (count of failing rows, the first SAMPLES distinct positions in the partition) as
    `_q<i>_n` / `_q<i>_at`, for the one aggregate of lakepipe.ingest._stats (grouped by partition).
    `good`: the line loads; `duplicate_key`: the line is superseded by a different value of its key.
    The positions are a set: the rows of one JSON record (explode, leaves) share its line."""
    from pyspark.sql import functions as F

    out = []
    for i, rule in enumerate(spec.quality_rules):
        if rule["type"] not in ROW_RULES:
            continue
        failing = duplicate_key if rule["type"] == "unique" else good & row_failure(rule, spec)
        out.append(F.sum(F.when(failing, 1).otherwise(0)).alias(f"_q{i}_n"))
        out.append(F.slice(F.sort_array(F.collect_set(F.when(failing, F.col("_lp_idx")))), 1, SAMPLES)
                   .alias(f"_q{i}_at"))
    return out


def evaluate(spec: DatasetSpec, rows, offsets: dict[int, int], *, rows_read: int, rows_loaded: int,
             rows_rejected: int) -> list[RuleResult]:
    """Every rule's result from the aggregate's rows (one per partition, `_lp_pid` and the `_q<i>_*`
    columns), the partitions' line offsets and the run's counts."""
    results = []
    for i, rule in enumerate(spec.quality_rules):
        kind, failing, samples, detail = rule["type"], 0, [], ""
        if kind in ROW_RULES:
            failing = sum(r[f"_q{i}_n"] for r in rows)
            samples = sorted(offsets[r["_lp_pid"]] + idx + 1 for r in rows for idx in r[f"_q{i}_at"])[:SAMPLES]
            detail = _row_detail(rule, spec)
        elif kind == "row_count":
            low, high = rule.get("min"), rule.get("max")
            failing = int((low is not None and rows_loaded < low) or (high is not None and rows_loaded > high))
            detail = f"{rows_loaded} rows loaded; allowed {low if low is not None else 0}..{high if high is not None else 'any'}"
        elif kind == "max_reject_ratio":
            ratio = rows_rejected / rows_read if rows_read else 0.0
            failing = int(ratio > rule["max"])
            detail = f"{rows_rejected} of {rows_read} rows rejected ({ratio:.4g}); allowed at most {rule['max']}"
        results.append(RuleResult(rule=rule_name(rule), rule_type=kind, severity=rule["severity"],
                                  passed=failing == 0, failing_rows=failing, sample_lines=samples, detail=detail))
    return results


def _row_detail(rule: dict[str, Any], spec: DatasetSpec) -> str:
    kind = rule["type"]
    if kind == "not_null":
        return f"{rule['column']} is empty"
    if kind == "accepted_values":
        return f"{rule['column']} is not one of {list(rule['values'])}"
    if kind == "regex":
        return f"{rule['column']} does not match {rule['pattern']}"
    if kind == "unique":
        return f"the natural key {list(spec.natural_key)} repeats with a different value (a later line wins)"
    low, high = rule.get("min"), rule.get("max")
    return f"{spec.value_column} is a number outside [{'-inf' if low is None else low}, {'inf' if high is None else high}]"


def raise_on_errors(results: list[RuleResult], source_uri: str) -> None:
    """QualityError naming every failed rule of severity error (rule, count, first lines); warn failures
    are logged."""
    for r in results:
        if not r.passed and r.severity == "warn":
            log.warning("%s: quality rule %s failed (warn): %d rows, lines %s; %s", source_uri, r.rule,
                        r.failing_rows, r.sample_lines, r.detail)
    errors = [r for r in results if not r.passed and r.severity == "error"]
    if errors:
        named = "; ".join(f"rule {r.rule} ({r.rule_type}) failed for {r.failing_rows} row(s)"
                          + (f", e.g. lines {r.sample_lines}" if r.sample_lines else "") + f": {r.detail}"
                          for r in errors)
        raise QualityError(f"{source_uri}: {named}; nothing was loaded", results)


def quality_table_name(spec: DatasetSpec, glue_catalog: str = "glue_catalog",
                       s3tables_catalog: str = "s3tables_catalog") -> str:
    """Quoted `catalog`.`database`.`<table>_quality`, in the catalog of the dataset's table."""
    from sqlglot import exp

    catalog = glue_catalog if spec.target == "glue" else s3tables_catalog
    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect="spark")
                    for p in (catalog, spec.database, spec.table + SUFFIX))


def record(spark, quality_table: str, spec: DatasetSpec, results: list[RuleResult], *, run_id: str,
           source_uri: str, source_version: str, checked_at: dt.datetime | None = None) -> None:
    """Append one row per rule result (creating the table on first use): one Iceberg commit, to a table
    of its own (a failed run's results are recorded too, its data table untouched)."""
    from pyspark.sql import types as T

    from lakepipe.commit_retry import with_commit_retries

    if not results:
        return
    at = (checked_at or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    rows = [(spec.name, run_id, source_uri, source_version, at, r.rule, r.rule_type, r.severity, r.passed,
             r.failing_rows, json.dumps(r.sample_lines), r.detail) for r in results]
    types = {"STRING": T.StringType(), "TIMESTAMP": T.TimestampType(), "BIGINT": T.LongType(),
             "BOOLEAN": T.BooleanType()}
    schema = T.StructType([T.StructField(c, types[t]) for c, t in COLUMNS.items()])

    def append() -> None:
        catalog_db = quality_table.rsplit(".", 1)[0]
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog_db}")
        columns = ", ".join(f"`{c}` {t}" for c, t in COLUMNS.items())
        spark.sql(f"CREATE TABLE IF NOT EXISTS {quality_table} ({columns}) USING iceberg "
                  "TBLPROPERTIES ('format-version' = '2')")
        spark.createDataFrame(rows, schema).writeTo(quality_table).append()

    _, retries = with_commit_retries(append, what=f"the quality results of run {run_id}",
                                     before_retry=lambda: spark.catalog.refreshTable(quality_table))
    log.info("quality %s: %d results of run %s (%d commit retries)", quality_table, len(rows), run_id, retries)


FAILED_RULE_METRIC = "QualityRuleFailedRows"  # per failed rule: dimensions Dataset and Rule, value the failing rows


def emit_failed_rule_metrics(namespace: str | None, dataset: str, results: list[RuleResult], cloudwatch=None) -> bool:
    """One CloudWatch datum per failed rule (lakepipe.metrics.put_metrics: logged, never raises)."""
    from lakepipe import metrics

    failed = [r for r in results if not r.passed]
    if not failed or not namespace:
        return False
    at = dt.datetime.now(dt.UTC)
    data = [{"MetricName": FAILED_RULE_METRIC, "Timestamp": at, "Value": float(r.failing_rows), "Unit": "Count",
             "Dimensions": [{"Name": metrics.DIMENSION, "Value": dataset}, {"Name": "Rule", "Value": r.rule}]}
            for r in failed]
    return metrics.put_metrics(namespace, data, cloudwatch)
