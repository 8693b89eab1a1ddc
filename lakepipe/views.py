"""The view job: one Glue Data Catalog multi-dialect view per split value.

1. One pass over the table: the distinct (split value, key) pairs (Glue lists the
   views' database meanwhile).
2. Per split value, one sqlglot definition (viewsql.py) rendered for Spark and Trino. The Spark
   text is analysed by Spark against the real table (its schema must be exactly the expected
   string columns); the Trino text is parsed back by sqlglot. Every new or changed definition is
   checked before any view is written (two split values at a time: Spark's analysis of one in the
   JVM overlaps sqlglot's building, rendering and parsing of another); a definition equal to the
   managed view in Glue was checked when it was written and is not checked again.
3. Glue CreateTable/UpdateTable with a ViewDefinition (SPARK + ATHENA representations, the
   definer role, the base table ARN as the only sub-object, the columns in the
   StorageDescriptor). A view whose `lakepipe.definition_sha256` matches is left alone; views
   this dataset created for split values that are gone are deleted; tables without our
   `lakepipe.managed_by` are never touched (a name clash with one fails the run, after the
   other views were handled).
4. Glue validates each dialect of a view asynchronously (Lake Formation "Validating the view generation
   status"): after each CreateTable/UpdateTable the job polls GetTable(IncludeStatusDetails=True) until
   the change is SUCCESS, and fails (after the other views were handled) naming the view, the dialect and
   Glue's reason when it FAILED or did not finish before the deadline. A CREATE that failed leaves an
   empty table behind; the next run recognises it (its requested change was ours) and creates it again.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lakepipe.ingest import table_name
from lakepipe.naming import view_names
from lakepipe.ordering import table_at, table_state
from lakepipe.s3util import join_uri
from lakepipe.spec import DatasetSpec
from lakepipe.viewsql import (
    ATHENA_S3TABLES_CATALOG,
    BaseTable,
    ViewDefinition,
    ViewDefinitionError,
    build_view,
    check_sizes,
    check_trino,
    definition_sha256,
    glue_base_table,
    s3tables_base_table,
)

log = logging.getLogger("lakepipe.views")

P_MANAGED_BY = "lakepipe.managed_by"
P_SPLIT_VALUE = "lakepipe.split_value"
P_COLUMN_MAP = "lakepipe.column_map"
P_HASH = "lakepipe.definition_sha256"
# The table state a view was built from (Iceberg's sequence number of its snapshot): view jobs of
# overlapping executions may finish in any order, and a view built from an older state never replaces
# one built from a newer state.
P_TABLE_SEQUENCE = "lakepipe.table_sequence_number"
VIEW_STATUS_DEADLINE_S = 300.0  # how long Glue may take to validate one view's dialects
SPARK_DIALECT_VERSION = "3.5"  # Glue 5.0 = Spark 3.5.4
ATHENA_DIALECT_VERSION = "3"  # Athena engine version 3 (Trino)
CHECK_THREADS = 2  # split values prepared and checked at once (prepare_and_check)


class ViewJobError(RuntimeError):
    pass


@dataclass(frozen=True)
class CatalogTarget:
    partition: str
    region: str
    account: str

    def table_arn(self, database: str, table: str, catalog_path: str | None = None) -> str:
        """Glue table ARN; catalog_path names a child catalog (`s3tablescatalog/<bucket>`)."""
        path = f"{catalog_path}/{database}/{table}" if catalog_path else f"{database}/{table}"
        return f"arn:{self.partition}:glue:{self.region}:{self.account}:table/{path}"


def discover_target(sts_client, region: str) -> CatalogTarget:
    ident = sts_client.get_caller_identity()
    partition = ident["Arn"].split(":")[1]
    return CatalogTarget(partition=partition, region=region, account=ident["Account"])


def split_keys(spark, spec: DatasetSpec, table: str, snapshot_id: int | None = None) -> dict[str, list[str]]:
    """One pass over one table state: distinct (split, key) pairs, grouped in the driver."""
    from pyspark.sql import functions as F

    rows = (
        table_at(spark, table, snapshot_id)
        .where(F.col(spec.split_column).isNotNull() & F.col(spec.key_column).isNotNull())
        .select(spec.split_column, spec.key_column)
        .distinct()
        .collect()
    )
    out: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        out[r[0]].append(r[1])
    return {k: sorted(v) for k, v in out.items()}


def check_spark(spark, view: ViewDefinition, sql: str) -> None:
    """Analyse the Spark text against the real table (two-part names resolve in the session's current
    catalog: prepare_and_check sets it)."""
    from pyspark.sql.types import StringType

    try:
        schema = spark.sql(sql).schema
    except Exception as e:
        raise ViewDefinitionError(f"view {view.view_name}: Spark rejects its SQL: {str(e)[:2000]}") from e
    got = tuple(f.name for f in schema.fields)
    if got != view.columns:
        raise ViewDefinitionError(f"view {view.view_name}: Spark columns {got[:6]}... != {view.columns[:6]}...")
    bad = [f.name for f in schema.fields if not isinstance(f.dataType, StringType)]
    if bad:
        raise ViewDefinitionError(f"view {view.view_name}: non-string columns in Spark: {bad[:5]}")


@dataclass(frozen=True)
class PreparedView:
    view: ViewDefinition
    spark_sql: str
    trino_sql: str
    table_input: dict[str, Any]


def prepare_and_check(spark, catalog: str, split_values: list[str], prepare: Callable[[str], PreparedView],
                      unchanged: Callable[[PreparedView], bool]) -> list[PreparedView]:
    """prepare(split value) for each split value, then check_sizes, check_trino and check_spark of each
    definition that is not unchanged; CHECK_THREADS split values at a time, so that Spark's analysis of one
    in the JVM overlaps sqlglot's building, rendering and parsing of another. Returns the prepared views in
    the order of split_values; raises the first failure in that order. Two-part names resolve in
    `catalog`, as they do for the views' readers."""

    def prepared_and_checked(split_value: str) -> PreparedView:
        p = prepare(split_value)
        if not unchanged(p):
            check_sizes(p.view, p.spark_sql, p.trino_sql)
            check_trino(p.trino_sql, p.view.columns)
            check_spark(spark, p.view, p.spark_sql)
        return p

    previous = spark.catalog.currentCatalog()
    spark.catalog.setCurrentCatalog(catalog)
    try:
        with ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="view-check") as pool:
            return list(pool.map(prepared_and_checked, split_values))
    finally:
        spark.catalog.setCurrentCatalog(previous)


def _unchanged(current: dict[str, Any] | None, spec: DatasetSpec, tin: dict[str, Any]) -> bool:
    params = (current or {}).get("Parameters") or {}
    return params.get(P_MANAGED_BY) == spec.name and params.get(P_HASH) == tin["Parameters"][P_HASH]


def table_input(spec: DatasetSpec, view: ViewDefinition, spark_sql: str, trino_sql: str, definer: str,
                base_arn: str, table_sequence: int = 0) -> dict[str, Any]:
    payload = {
        "spark": spark_sql,
        "trino": trino_sql,
        "columns": list(view.columns),
        "column_map": view.column_map,
        "definer": definer,
        "sub_objects": [base_arn],
        "split_value": view.split_value,
        "dialect_versions": [SPARK_DIALECT_VERSION, ATHENA_DIALECT_VERSION],
        "is_protected": True,
    }
    return {
        "Name": view.view_name,
        "TableType": "VIRTUAL_VIEW",
        "Description": f"lakepipe: {spec.name} pivoted for one {spec.split_column} value",
        "Parameters": {
            P_MANAGED_BY: spec.name,
            P_SPLIT_VALUE: view.split_value,
            P_COLUMN_MAP: json.dumps(view.column_map, ensure_ascii=False, sort_keys=True),
            P_HASH: definition_sha256(payload),
            P_TABLE_SEQUENCE: str(table_sequence),
        },
        # Both dialects resolve to these columns; Glue needs them for the SPARK representation.
        "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in view.columns]},
        "ViewDefinition": {
            "IsProtected": True,
            "Definer": definer,
            "SubObjects": [base_arn],
            "Representations": [
                {"Dialect": "SPARK", "DialectVersion": SPARK_DIALECT_VERSION,
                 "ViewOriginalText": spark_sql, "ViewExpandedText": spark_sql},
                # Glue rejects ViewExpandedText on ATHENA (and rewrites ViewOriginalText).
                {"Dialect": "ATHENA", "DialectVersion": ATHENA_DIALECT_VERSION, "ViewOriginalText": trino_sql},
            ],
        },
    }


def wait_for_view(glue, database: str, name: str, *, deadline_s: float = VIEW_STATUS_DEADLINE_S,
                  first_delay_s: float = 0.2, max_delay_s: float = 5.0, clock=time.monotonic,
                  sleep=time.sleep) -> None:
    """Poll the view's asynchronous change until Glue's verdict; raise ViewJobError unless it is SUCCESS.

    A table without Status has no asynchronous change pending (Glue reports one for views created or
    updated through the Glue API)."""
    give_up = clock() + deadline_s
    delay = first_delay_s
    while True:
        status = glue.get_table(DatabaseName=database, Name=name, IncludeStatusDetails=True)["Table"].get("Status")
        state = (status or {}).get("State", "SUCCESS")
        if state == "SUCCESS":
            return
        if state in ("FAILED", "STOPPED"):
            raise ViewJobError(f"view {database}.{name}: Glue {state} its {status.get('Action', 'change')}: "
                               f"{_status_reasons(status)}")
        if clock() + delay > give_up:
            raise ViewJobError(f"view {database}.{name}: Glue did not finish validating it within {deadline_s:g} s "
                               f"(state {state}; dialects: {_dialect_states(status)})")
        sleep(delay)
        delay = min(delay * 2, max_delay_s)


def _dialect_states(status: dict[str, Any]) -> str:
    validations = (status.get("Details") or {}).get("ViewValidations") or []
    return ", ".join(f"{v.get('Dialect')} {v.get('State')}" for v in validations) or "none reported"


def _status_reasons(status: dict[str, Any]) -> str:
    """Each failed dialect with its error, else the change's own error."""
    reasons = [f"dialect {v.get('Dialect')}: {(v.get('Error') or {}).get('ErrorCode', '')}: "
               f"{(v.get('Error') or {}).get('ErrorMessage', 'no message')}"
               for v in (status.get("Details") or {}).get("ViewValidations") or [] if v.get("State") == "FAILED"]
    if not reasons:
        error = status.get("Error") or {}
        reasons = [f"{error.get('ErrorCode', '')}: {error.get('ErrorMessage', 'no error reported')}"]
    return "; ".join(reasons)


def _own_create_state(glue, database: str, name: str, dataset: str) -> str | None:
    """For the empty table Glue keeps while it creates a view: the state of that CREATE when it is one of
    this dataset's views (IN_PROGRESS, SUCCESS, FAILED, STOPPED), else None."""
    status = glue.get_table(DatabaseName=database, Name=name, IncludeStatusDetails=True)["Table"].get("Status") or {}
    requested = (status.get("Details") or {}).get("RequestedChange") or {}
    if status.get("Action") == "CREATE" and (requested.get("Parameters") or {}).get(P_MANAGED_BY) == dataset:
        return status.get("State")
    return None


def _current(glue, database: str, name: str) -> dict[str, Any] | None:
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None


def _sequence(table: dict[str, Any]) -> int:
    try:
        return int((table.get("Parameters") or {}).get(P_TABLE_SEQUENCE, -1))
    except ValueError:
        return -1


def write_view(glue, db: str, tin: dict[str, Any], spec: DatasetSpec, current: dict[str, Any] | None,
               table_sequence: int, *, deadline_s: float = VIEW_STATUS_DEADLINE_S, max_delay_s: float = 5.0,
               clock=time.monotonic, sleep=time.sleep) -> str:
    """Create or update one view; returns the action. Optimistic, as Iceberg's GlueCatalog commits: an
    update names the VersionId it read, and a lost race (the view created or changed meanwhile) re-reads
    the view and decides again. A view built from a newer table state is left as it is ("superseded").
    While other view jobs' changes are being validated the view cannot be written: those waits end at the
    same deadline as the wait for this job's own validation (a fixed count of attempts, ~30 s, could run
    out while a burst of view jobs kept the view busy)."""
    name = tin["Name"]
    give_up = clock() + deadline_s
    attempt = 0
    while True:
        if attempt:
            delay = min(max_delay_s, 0.2 * 2 ** attempt)
            if clock() + delay > give_up:
                raise ViewJobError(f"view {db}.{name}: still changing under other view jobs after {deadline_s:g} s "
                                   f"({attempt} attempts)")
            sleep(delay)
            current = _current(glue, db, name)
        attempt += 1
        if current is not None and not current.get("Parameters"):
            state = _own_create_state(glue, db, name, spec.name)
            if state == "IN_PROGRESS":
                log.info("%s.%s: another view job is creating it; waiting", db, name)
                continue
            if state == "SUCCESS":  # that creation finished after `current` was read: read the view it made
                log.info("%s.%s: another view job created it; reading it again", db, name)
                current = _current(glue, db, name)
            if state in ("FAILED", "STOPPED"):
                glue.delete_table(DatabaseName=db, Name=name)
                log.info("%s.%s: removed the empty table of its failed creation", db, name)
                current = None
        try:
            if current is None:
                glue.create_table(DatabaseName=db, TableInput=tin)
                return "created"
            params = current.get("Parameters") or {}
            if params.get(P_MANAGED_BY) != spec.name:
                return "conflict"
            if params.get(P_HASH) == tin["Parameters"][P_HASH]:
                return "unchanged"
            if _sequence(current) > table_sequence:
                return "superseded"
            glue.update_table(DatabaseName=db, TableInput=tin, VersionId=current["VersionId"])
            return "updated"
        except (glue.exceptions.AlreadyExistsException, glue.exceptions.ConcurrentModificationException) as e:
            log.warning("%s.%s: another view job wrote it first (%s); reading it again", db, name,
                        e.response["Error"]["Code"])


def _existing_tables(glue, database: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for t in page["TableList"]:
            out[t["Name"]] = t
    return out


def base_table(spec: DatasetSpec, target: CatalogTarget, *, s3tables_catalog: str,
               s3tables_table_bucket: str | None) -> tuple[BaseTable, str]:
    """How each engine names the dataset's table, and its Glue ARN (the views' SubObject)."""
    if spec.target == "glue":
        return glue_base_table(spec.database, spec.table), target.table_arn(spec.database, spec.table)
    if not s3tables_table_bucket:
        raise ViewJobError(
            f"dataset {spec.name} has target s3tables: --s3tables_table_bucket (the table bucket's name) is "
            "required to name its table in the views (modules/glue_jobs sets it when S3 Tables is enabled)")
    try:
        base = s3tables_base_table(spec.database, spec.table, spark_catalog=s3tables_catalog,
                                   table_bucket=s3tables_table_bucket)
    except ViewDefinitionError as e:
        raise ViewJobError(f"dataset {spec.name}: {e}") from e
    arn = target.table_arn(spec.database, spec.table, f"{ATHENA_S3TABLES_CATALOG}/{s3tables_table_bucket}")
    return base, arn


def run_views(spark, spec: DatasetSpec, *, glue, target: CatalogTarget, definer_role_arn: str,
              glue_catalog: str = "glue_catalog", s3tables_catalog: str = "s3tables_catalog",
              s3tables_table_bucket: str | None = None,
              view_status_deadline_s: float = VIEW_STATUS_DEADLINE_S) -> dict[str, Any]:
    if not definer_role_arn:
        raise ViewJobError("--definer_role_arn is required (Glue views are defined by an IAM role)")
    base, base_arn = base_table(spec, target, s3tables_catalog=s3tables_catalog,
                                s3tables_table_bucket=s3tables_table_bucket)
    table = table_name(spec, glue_catalog, s3tables_catalog)
    # Two-part names (target glue) resolve in the Glue catalog, as they do for the view's readers.
    catalog = glue_catalog
    db = spec.views_database
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="view-list") as glue_pool:
        # Glue's listing of the views' database overlaps Spark's pass over the table.
        listing = glue_pool.submit(_existing_tables, glue, db)
        snapshot_id, sequence = table_state(spark, table)
        keys_by_split = split_keys(spark, spec, table, snapshot_id)
        existing = listing.result()
    # Terraform grants each analyst group the plain names of its declared values (modules/catalog).
    names = view_names(keys_by_split, spec.view_prefix,
                       declared=[v for g in spec.analyst_groups for v in g["split_values"]])

    def prepare(split_value: str) -> PreparedView:
        view = build_view(spec, split_value, keys_by_split[split_value], names[split_value], base)
        spark_sql, trino_sql = view.spark_sql(), view.trino_sql()
        return PreparedView(view, spark_sql, trino_sql, table_input(
            spec, view, spark_sql, trino_sql, definer_role_arn, base_arn, sequence))

    prepared = prepare_and_check(spark, catalog, sorted(keys_by_split), prepare,
                                 lambda p: _unchanged(existing.get(p.view.view_name), spec, p.table_input))

    report: dict[str, Any] = {"table_sequence_number": sequence, "views": [], "dropped": []}
    conflicts: list[str] = []
    failed: list[str] = []
    wanted: set[str] = set()
    for p in prepared:
        view, tin = p.view, p.table_input
        wanted.add(view.view_name)
        try:
            action = write_view(glue, db, tin, spec, existing.get(view.view_name), sequence,
                                deadline_s=view_status_deadline_s)
            if action == "conflict":
                conflicts.append(f"{db}.{view.view_name}")
                log.error("%s.%s exists and is not managed by dataset %s; left untouched", db, view.view_name,
                          spec.name)
                continue
            if action in ("created", "updated"):
                wait_for_view(glue, db, view.view_name, deadline_s=view_status_deadline_s)
        except (ViewJobError, ClientError) as e:
            # Glue refuses a view at once (e.g. Lake Formation prerequisites) or fails it asynchronously.
            message = str(e) if isinstance(e, ViewJobError) else f"view {db}.{view.view_name}: Glue refused it: {e}"
            failed.append(message)
            log.error("%s", message)
            action = "failed"
        report["views"].append({"split_value": view.split_value, "view": f"{db}.{view.view_name}",
                                "columns": len(view.columns), "action": action})
        log.info("view %s.%s: %s (%d columns)", db, view.view_name, action, len(view.columns))

    for name, t in sorted(existing.items()):
        params = t.get("Parameters") or {}
        if (params.get(P_MANAGED_BY) == spec.name and t.get("TableType") == "VIRTUAL_VIEW"
                and name not in wanted and _sequence(t) <= sequence):
            glue.delete_table(DatabaseName=db, Name=name)
            report["dropped"].append(f"{db}.{name}")
            log.info("dropped %s.%s (split value %r is gone)", db, name, params.get(P_SPLIT_VALUE))
    if conflicts:
        report["conflicts"] = conflicts
    if failed:
        report["failed"] = failed
    return report


def main(spark, args: dict[str, str]) -> dict[str, Any]:
    """Entry point of glue_jobs/view_job.py: run, write the report, fail on name conflicts."""
    import boto3

    from lakepipe.s3util import put_json
    from lakepipe.spec import parse_spec

    spec = parse_spec(args["dataset_spec"])
    session = boto3.session.Session()
    region = session.region_name or "us-east-1"
    target = discover_target(session.client("sts", region_name=region), region)
    report = run_views(
        spark, spec, glue=session.client("glue", region_name=region), target=target,
        definer_role_arn=args.get("definer_role_arn", ""),
        glue_catalog=args.get("glue_catalog") or "glue_catalog",
        s3tables_catalog=args.get("s3tables_catalog") or "s3tables_catalog",
        s3tables_table_bucket=args.get("s3tables_table_bucket"),
        view_status_deadline_s=float(args.get("view_status_deadline_seconds") or VIEW_STATUS_DEADLINE_S),
    )
    put_json(session.client("s3", region_name=region),
             join_uri(args["runs_location"], spec.name, args["run_id"], "views.json"), report)
    print(json.dumps({"lakepipe_views_report": {k: v for k, v in report.items() if k != "views"},
                      "views": len(report["views"])}, ensure_ascii=False))
    problems = []
    if report.get("failed"):
        problems.append("Glue did not validate these views: " + " | ".join(report["failed"]))
    if report.get("conflicts"):
        problems.append(f"view name(s) taken by tables this pipeline does not manage: {report['conflicts']}; "
                        "rename or drop them, or change the dataset's view_prefix")
    if problems:
        raise ViewJobError(". ".join(problems))
    return report
