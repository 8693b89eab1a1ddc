"""Table maintenance: keep each dataset's Iceberg tables small in files and metadata as loads accumulate.

Every ingest run MERGEs into the table (copy-on-write, one new data file per touched split value and task) and
appends to `<table>_ledger`, so small files, snapshots and the files only old snapshots reference grow with
every load. One maintenance run covers one dataset: every Iceberg table of the dataset's database whose name is
the dataset's table or starts with it and `_` (the ledger, and any side table another feature adds, e.g.
`<table>_quality`), except tables that belong to another dataset with a longer table name in the same database
(`entities_burst` and `entities_burst_ledger` are not `entities`' side tables).

Target glue, in Iceberg's recommended order (Spark procedures, "Maintenance" in Iceberg's docs):
1. `rewrite_data_files` (binpack to the target file size; a partition with two or more small files is
   compacted, so after a run a partition holds at most one file below the target size; delete files left
   applying to no live data file are dropped, `remove-dangling-deletes`, Iceberg >= 1.6);
2. `rewrite_position_delete_files`, only when the table still has delete files (copy-on-write tables have
   none; a merge-on-read side table does): compacts them, e.g. many small ones against one large data file;
3. `expire_snapshots` older than the retention, keeping at least `min_snapshots_to_keep`; the files only
   expired snapshots referenced are deleted by the procedure;
4. `remove_orphan_files` older than the orphan retention (files no snapshot references, e.g. left by a failed
   write). The retention must exceed the longest write: a file a running job has written but not yet committed
   looks orphaned (Iceberg: "it is dangerous to remove orphan files with a retention interval shorter than the
   time expected for any write to complete").
Compaction and expiry commit optimistically like a load: a commit conflict with a concurrent MERGE is retried
(lakepipe.commit_retry), and the MERGE that lost to a compaction is redone by the ingest job's own retries.

Target s3tables: S3 Tables runs compaction, snapshot expiry and unreferenced-file removal itself; the run sets
each table's compaction and snapshot-management configuration from the same settings
(PutTableMaintenanceConfiguration; bucket-level unreferenced-file removal is Terraform's, modules/s3tables).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from lakepipe.commit_retry import with_commit_retries
from lakepipe.spec import DatasetSpec

log = logging.getLogger("lakepipe.maintenance")

MIB = 1024 * 1024
# The procedures' default is 5: a partition with 2-4 small files (or delete files) would stay as it is. With 2,
# every partition a load touched since the last run is compacted (its small files are small: cheap to rewrite).
MIN_INPUT_FILES = 2


class MaintenanceError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    """Defaults are S3 Tables' own (compaction target 512 MB; keep >= 1 snapshot, expire after 120 h;
    unreferenced files after 3 days), so both targets behave alike unless the stack says otherwise."""
    target_file_size_mb: int = 512
    snapshot_retention_hours: float = 120
    min_snapshots_to_keep: int = 1
    orphan_file_retention_hours: float = 72
    s3tables_table_bucket_arn: str = ""

    def __post_init__(self) -> None:
        if self.target_file_size_mb < 1:
            raise ValueError(f"target_file_size_mb must be positive, not {self.target_file_size_mb}")
        if self.min_snapshots_to_keep < 1:
            raise ValueError(f"min_snapshots_to_keep must be at least 1, not {self.min_snapshots_to_keep}")
        if self.snapshot_retention_hours < 0 or self.orphan_file_retention_hours < 0:
            raise ValueError("retention hours must not be negative")

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """The state machine's `--settings` (JSON object; numbers may arrive as strings). Unknown keys fail."""
        raw = json.loads(text) if text else {}
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown maintenance settings: {sorted(unknown)}")
        kinds = {"target_file_size_mb": int, "min_snapshots_to_keep": int, "snapshot_retention_hours": float,
                 "orphan_file_retention_hours": float, "s3tables_table_bucket_arn": str}
        return cls(**{k: kinds[k](v) for k, v in raw.items()})


def dataset_tables(table_names: list[str], table: str, other_tables: list[str]) -> list[str]:
    """The dataset's tables among `table_names` (one database): `table` and `table_*`, minus those that
    belong to another dataset of the database whose table name is longer and also matches."""
    def owns(owner: str, name: str) -> bool:
        return name == owner or name.startswith(owner + "_")

    longer = [o for o in other_tables if len(o) > len(table) and owns(table, o)]
    return sorted(n for n in table_names if owns(table, n) and not any(owns(o, n) for o in longer))


def _quote(*parts: str) -> str:
    return ".".join("`" + p.replace("`", "``") + "`" for p in parts)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _timestamp(at: dt.datetime) -> str:
    return f"TIMESTAMP '{at.astimezone(dt.UTC).strftime('%Y-%m-%d %H:%M:%S.%f')}+00:00'"


def list_tables(spark, catalog: str, database: str) -> list[str]:
    return [r["tableName"] for r in spark.sql(f"SHOW TABLES IN {_quote(catalog, database)}").collect()]


def table_stats(spark, table: str) -> dict[str, int]:
    """Data files, delete files, snapshots and the most data files any one partition holds."""
    columns = spark.table(f"{table}.data_files").columns
    per_partition = (spark.sql(f"SELECT count(*) AS n FROM {table}.data_files GROUP BY partition ORDER BY n DESC LIMIT 1")
                     if "partition" in columns else spark.sql(f"SELECT count(*) AS n FROM {table}.data_files"))
    top = per_partition.collect()
    return {
        "data_files": spark.table(f"{table}.data_files").count(),
        "delete_files": spark.table(f"{table}.delete_files").count(),
        "snapshots": spark.table(f"{table}.snapshots").count(),
        "max_data_files_per_partition": top[0]["n"] if top else 0,
    }


def _call(spark, sql: str, table: str, what: str) -> list[dict[str, Any]]:
    def run() -> list[dict[str, Any]]:
        return [r.asDict() for r in spark.sql(sql).collect()]

    rows, retries = with_commit_retries(run, what=f"{what} of {table}",
                                        before_retry=lambda: spark.sql(f"REFRESH TABLE {table}"))
    if retries:
        log.info("%s of %s committed after %d retries", what, table, retries)
    return rows


def maintain_table(spark, catalog: str, database: str, name: str, settings: Settings,
                   now: dt.datetime) -> dict[str, Any]:
    """Compact, rewrite position deletes, expire snapshots, remove orphan files: one table."""
    table = _quote(catalog, database, name)
    ident = _literal(_quote(database, name))
    proc = f"CALL {_quote(catalog)}.system"
    t0 = time.perf_counter()
    before = table_stats(spark, table)
    report: dict[str, Any] = {"table": f"{database}.{name}", "before": before}
    options = (f"map('target-file-size-bytes', '{settings.target_file_size_mb * MIB}', "
               f"'min-input-files', '{MIN_INPUT_FILES}', 'partial-progress.enabled', 'true', "
               "'remove-dangling-deletes', 'true')")
    (report["rewrite_data_files"],) = _call(spark, f"{proc}.rewrite_data_files(table => {ident}, options => {options})",
                                            table, "rewrite_data_files")
    if table_stats(spark, table)["delete_files"]:
        (report["rewrite_position_delete_files"],) = _call(
            spark, f"{proc}.rewrite_position_delete_files(table => {ident}, options => map("
                   f"'min-input-files', '{MIN_INPUT_FILES}', 'partial-progress.enabled', 'true'))",
            table, "rewrite_position_delete_files")
    expire_before = now - dt.timedelta(hours=settings.snapshot_retention_hours)
    (report["expire_snapshots"],) = _call(
        spark, f"{proc}.expire_snapshots(table => {ident}, older_than => {_timestamp(expire_before)}, "
               f"retain_last => {settings.min_snapshots_to_keep})", table, "expire_snapshots")
    orphans_before = now - dt.timedelta(hours=settings.orphan_file_retention_hours)
    orphans = [r["orphan_file_location"] for r in spark.sql(
        f"{proc}.remove_orphan_files(table => {ident}, older_than => {_timestamp(orphans_before)})").collect()]
    report["remove_orphan_files"] = {"removed": len(orphans), "sample": orphans[:10]}
    report["after"] = table_stats(spark, table)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    log.info("maintained %s in %.1f s: %s -> %s", report["table"], report["seconds"], before, report["after"])
    return report


def maintain_glue_dataset(spark, spec: DatasetSpec, *, catalog: str, settings: Settings, other_tables: list[str],
                          now: dt.datetime | None = None) -> dict[str, Any]:
    """Every table of the dataset; one table's failure does not stop the others (the report lists it)."""
    now = now or dt.datetime.now(dt.UTC)
    tables = dataset_tables(list_tables(spark, catalog, spec.database), spec.table, other_tables)
    report: dict[str, Any] = {"dataset": spec.name, "target": spec.target, "settings": asdict(settings),
                              "tables": [], "failed": []}
    for name in tables:
        try:
            report["tables"].append(maintain_table(spark, catalog, spec.database, name, settings, now))
        except Exception as e:
            log.exception("maintenance of %s.%s failed", spec.database, name)
            report["failed"].append(f"{spec.database}.{name}: {type(e).__name__}: {str(e).splitlines()[0][:500]}")
    return report


def s3tables_configuration(settings: Settings) -> dict[str, dict[str, Any]]:
    """PutTableMaintenanceConfiguration values by maintenance type, from the settings."""
    return {
        "icebergCompaction": {"status": "enabled", "settings": {
            "icebergCompaction": {"targetFileSizeMB": settings.target_file_size_mb}}},
        "icebergSnapshotManagement": {"status": "enabled", "settings": {
            "icebergSnapshotManagement": {"minSnapshotsToKeep": settings.min_snapshots_to_keep,
                                          "maxSnapshotAgeHours": max(1, round(settings.snapshot_retention_hours))}}},
    }


def configure_s3tables_dataset(client, spec: DatasetSpec, *, settings: Settings,
                               other_tables: list[str]) -> dict[str, Any]:
    """Set the maintenance configuration of every table of the dataset in its namespace (S3 Tables runs it)."""
    arn = settings.s3tables_table_bucket_arn
    if not arn:
        raise MaintenanceError(f"dataset {spec.name} has target s3tables but no s3tables_table_bucket_arn was given")
    names: list[str] = []
    kwargs: dict[str, Any] = {"tableBucketARN": arn, "namespace": spec.database}
    while True:
        page = client.list_tables(**kwargs)
        names += [t["name"] for t in page.get("tables", [])]
        if not page.get("continuationToken"):
            break
        kwargs["continuationToken"] = page["continuationToken"]
    report: dict[str, Any] = {"dataset": spec.name, "target": spec.target, "settings": asdict(settings),
                              "tables": [], "failed": []}
    for name in dataset_tables(names, spec.table, other_tables):
        try:
            for kind, value in s3tables_configuration(settings).items():
                client.put_table_maintenance_configuration(tableBucketARN=arn, namespace=spec.database, name=name,
                                                           type=kind, value=value)
            report["tables"].append({"table": f"{spec.database}.{name}",
                                     "configured": sorted(s3tables_configuration(settings))})
        except Exception as e:
            log.exception("maintenance configuration of %s.%s failed", spec.database, name)
            report["failed"].append(f"{spec.database}.{name}: {type(e).__name__}: {e}")
    return report


def main(spark, args: dict[str, str]) -> dict[str, Any]:
    """Entry point of glue_jobs/maintenance_job.py: maintain one dataset, write the report, fail if a table failed."""
    import boto3

    from lakepipe.s3util import join_uri, put_json
    from lakepipe.spec import parse_spec

    spec = parse_spec(args["dataset_spec"])
    settings = Settings.from_json(args.get("settings") or "")
    other_tables = json.loads(args.get("other_tables") or "[]")
    if spec.target == "glue":
        report = maintain_glue_dataset(spark, spec, catalog=args.get("glue_catalog") or "glue_catalog",
                                       settings=settings, other_tables=other_tables)
    else:
        report = configure_s3tables_dataset(boto3.client("s3tables"), spec, settings=settings, other_tables=other_tables)
    put_json(boto3.client("s3"), join_uri(args["runs_location"], spec.name, args["run_id"], "maintenance.json"), report)
    print(json.dumps({"lakepipe_maintenance_report": {
        "dataset": spec.name, "failed": report["failed"],
        "tables": {t["table"]: {k: t[k] for k in ("before", "after", "seconds") if k in t} for t in report["tables"]},
    }}, ensure_ascii=False))
    if report["failed"]:
        raise MaintenanceError("maintenance failed for: " + " | ".join(report["failed"]))
    return report
