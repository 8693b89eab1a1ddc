"""Table maintenance in local Spark: 12 loads into one dataset through lakepipe's load function (each with its
ledger entry), then lakepipe.maintenance's job entry, in-process. Data files per partition come back to one,
snapshots older than the retention are gone (their files deleted), an orphan file is removed, every file left
on disk is referenced, a merge-on-read side table's position deletes are rewritten, another dataset's table in
the same database is left alone, and every table holds exactly the rows it held before."""

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest

from lakepipe import ledger
from lakepipe.ingest import run_ingest
from lakepipe.maintenance import dataset_tables, main
from lakepipe.spec import parse_spec

from .conftest import CATALOG, REGION
from .helpers import rows_sorted, write_csv

LOADS = 12  # every partition gets many more small files than lakepipe.maintenance.MIN_INPUT_FILES
SPEC = parse_spec({"name": "maint", "raw_prefix": "incoming/maint/", "database": "lake", "table": "maint_events"})
OTHER = "maint_events_other"  # another dataset's table in the same database: not maint_events' side table
HEADER = ["entity1", "entity2", "entity3", "entity4", "key", "value"]
BUCKET = "maint-artifacts"


def tname(name: str) -> str:
    return f"{CATALOG}.lake.{name}"


def load(spark, tmp_path: Path, i: int) -> None:
    """Load i: two new keys in each of two split values, and a changed value of an existing row."""
    rows = [[split, f"e{i}", "x", "y", f"k{i}_{n}", str(i)] for split in ("ACME", "GLOBEX") for n in range(2)]
    if i:
        rows.append(["ACME", "e0", "x", "y", "k0_0", f"changed-{i}"])
    path = write_csv(tmp_path / f"load{i}.csv", HEADER, rows)
    run_id = f"load-{i:02d}"
    result = run_ingest(spark, SPEC, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                        rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)
    ledger.record(spark, tname(SPEC.table + ledger.SUFFIX), ledger.LedgerEntry(
        dataset=SPEC.name, source_bucket="", source_key=str(path), source_version="v1", source_etag="",
        source_sequencer=None, source_event_time=None, run_id=run_id, loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        status=ledger.status_of(result.rows_read, result.rows_loaded, result.rows_changed), rows_read=result.rows_read,
        rows_loaded=result.rows_loaded, rows_rejected=result.rows_rejected, rows_changed=result.rows_changed))


def contents(spark, name: str) -> list[tuple]:
    return rows_sorted(spark.table(tname(name)).collect())


def snapshots(spark, name: str) -> list[tuple[int, dt.datetime]]:
    return [(r[0], r[1]) for r in spark.sql(
        f"SELECT snapshot_id, committed_at FROM {tname(name)}.snapshots ORDER BY committed_at").collect()]


def files_per_partition(spark, name: str) -> int:
    return spark.sql(f"SELECT count(*) AS n FROM {tname(name)}.data_files GROUP BY partition "
                     "ORDER BY n DESC LIMIT 1").collect()[0]["n"]


def local_path(uri: str) -> str:
    return uri.removeprefix("file:")


def files_on_disk(spark, name: str) -> set[str]:
    location = local_path(spark.sql(f"DESCRIBE TABLE EXTENDED {tname(name)}").where("col_name = 'Location'")
                          .collect()[0]["data_type"])
    found = set()
    for root, _, names in os.walk(os.path.join(location, "data")):
        found |= {os.path.normpath(os.path.join(root, n)) for n in names if not n.endswith(".crc")}
    return found


def referenced_files(spark, name: str) -> set[str]:
    rows = spark.sql(f"SELECT file_path FROM {tname(name)}.all_data_files UNION "
                     f"SELECT file_path FROM {tname(name)}.all_delete_files").collect()
    return {os.path.normpath(local_path(r[0])) for r in rows}


@pytest.fixture(scope="module")
def s3(aws_env):
    import boto3

    client = boto3.client("s3", endpoint_url=aws_env, region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def test_dataset_tables_are_listed_not_hard_coded():
    names = ["maint_events", "maint_events_ledger", "maint_events_quality", OTHER, OTHER + "_ledger", "maint", "x"]
    assert dataset_tables(names, "maint_events", [OTHER, "maint"]) == [
        "maint_events", "maint_events_ledger", "maint_events_quality"]
    assert dataset_tables(names, OTHER, ["maint_events"]) == [OTHER, OTHER + "_ledger"]


def test_maintenance_after_12_loads_bounds_files_and_snapshots_and_keeps_contents(spark, s3, aws_env, tmp_path,
                                                                                  monkeypatch):
    names = (SPEC.table, SPEC.table + ledger.SUFFIX, SPEC.table + "_quality", OTHER)
    for name in names:
        spark.sql(f"DROP TABLE IF EXISTS {tname(name)} PURGE")
    # A merge-on-read side table (a feature's own table beside the dataset's) with position deletes.
    quality = tname(SPEC.table + "_quality")
    # Partition-scoped deletes: each DELETE adds a delete file (file-scoped ones replace the file's previous one).
    spark.sql(f"CREATE TABLE {quality} (rule STRING, n BIGINT) USING iceberg TBLPROPERTIES ('format-version'='2', "
              "'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read', "
              "'write.delete.granularity'='partition')")
    # One data file, so compaction leaves it (3 of 20 rows deleted: below the delete ratio that makes Iceberg
    # rewrite a data file), and each DELETE of one row adds a position delete file.
    rows = [(f"c{i}", i) for i in range(17)] + [(f"d{i}", i) for i in range(3)]
    spark.createDataFrame(rows, "rule STRING, n BIGINT").coalesce(1).writeTo(quality).append()
    for i in range(3):
        spark.sql(f"DELETE FROM {quality} WHERE rule = 'd{i}'")
    spark.sql(f"CREATE TABLE {tname(OTHER)} (a STRING) USING iceberg")
    spark.sql(f"INSERT INTO {tname(OTHER)} VALUES ('a')")
    spark.sql(f"INSERT INTO {tname(OTHER)} VALUES ('b')")

    t0 = time.perf_counter()
    for i in range(LOADS):
        load(spark, tmp_path, i)
        if i == LOADS * 2 // 3 - 1:
            time.sleep(0.05)  # the retention cut falls strictly between two loads' commits
            cut = dt.datetime.now(dt.UTC)
            cut_local = cut.astimezone().replace(tzinfo=None)  # how PySpark returns committed_at
            time.sleep(0.05)
    print(f"{LOADS} loads with their ledger entries: {time.perf_counter() - t0:.1f} s")

    table = SPEC.table
    before = {n: contents(spark, n) for n in names}
    snaps_before = snapshots(spark, table)
    files_before = files_per_partition(spark, table)
    quality_deletes_before = spark.table(f"{quality}.delete_files").count()
    other_snapshots = snapshots(spark, OTHER)
    assert len(snaps_before) >= LOADS and files_before >= LOADS // 2, (len(snaps_before), files_before)
    assert quality_deletes_before == 3
    # A file nobody references, older than the orphan retention (e.g. left by a failed write).
    orphan = Path(min(files_on_disk(spark, table))).with_name("orphan-of-a-failed-write.parquet")
    orphan.write_bytes(b"not referenced")
    old = time.time() - 4 * 86400
    os.utime(orphan, (old, old))

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env)
    now = dt.datetime.now(dt.UTC)
    settings = {"target_file_size_mb": 512, "snapshot_retention_hours": (now - cut).total_seconds() / 3600,
                "min_snapshots_to_keep": 1, "orphan_file_retention_hours": 72}
    t0 = time.perf_counter()
    report = main(spark, {"dataset_spec": json.dumps(SPEC.to_dict()), "run_id": "maint-run-1",
                          "runs_location": f"s3://{BUCKET}/runs/", "glue_catalog": CATALOG,
                          "settings": json.dumps(settings), "other_tables": json.dumps([OTHER])})
    print(f"maintenance of {len(report['tables'])} tables: {time.perf_counter() - t0:.1f} s")

    # Every table of the dataset, listed: the ledger and the side table too; never the other dataset's.
    assert [t["table"] for t in report["tables"]] == [f"lake.{n}" for n in sorted(names[:3])]
    assert report["failed"] == []
    assert snapshots(spark, OTHER) == other_snapshots
    # Contents unchanged, table by table.
    assert {n: contents(spark, n) for n in names} == before
    # Files per partition bounded: every partition's small files compacted into one.
    assert files_per_partition(spark, table) == 1
    # Snapshots within retention: those committed before the cut are gone, the later ones are kept.
    after = snapshots(spark, table)
    kept = [s for s in snaps_before if s[1] > cut_local]
    assert 0 < len(kept) < len(snaps_before)
    assert [s for s in after if s in snaps_before] == kept
    assert all(committed > cut_local for _, committed in after)
    # Expired snapshots' files and the orphan are deleted: every data file left on disk is referenced.
    assert not orphan.exists()
    assert files_on_disk(spark, table) == referenced_files(spark, table)
    main_report = report["tables"][0]
    assert main_report["remove_orphan_files"]["removed"] >= 1
    assert main_report["expire_snapshots"]["deleted_data_files_count"] > 0
    assert main_report["before"]["max_data_files_per_partition"] == files_before
    assert main_report["after"]["max_data_files_per_partition"] == 1
    # The side table's three small position delete files were rewritten (into one, or applied and dropped).
    quality_report = report["tables"][2]
    assert quality_report["before"]["delete_files"] == 3 and quality_report["after"]["delete_files"] <= 1
    assert quality_report["after"]["data_files"] == 1
    # The report is in the run's place beside the dataset's run records.
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key="runs/maint/maint-run-1/maintenance.json")["Body"].read())
    assert stored["tables"][0]["after"] == main_report["after"]

    # A second run changes nothing in the contents and keeps the bound.
    main(spark, {"dataset_spec": json.dumps(SPEC.to_dict()), "run_id": "maint-run-2",
                 "runs_location": f"s3://{BUCKET}/runs/", "glue_catalog": CATALOG, "other_tables": json.dumps([OTHER])})
    assert {n: contents(spark, n) for n in names} == before
    assert files_per_partition(spark, table) == 1
