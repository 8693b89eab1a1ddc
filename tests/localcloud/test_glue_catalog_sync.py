"""The three-way sync between the local Iceberg JDBC catalogs and the Glue Data Catalog, as overlapping
runs use it (catalog_sync.presync/postsync under sync_lock). No Spark: commits are simulated the way
Iceberg's JdbcCatalog makes them (a new metadata file whose metadata-log names its ancestors, then a
compare-and-swap of the catalog row)."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from localcloud.glue import catalog_sync

CAT = "glue_catalog"


@pytest.fixture
def glue():
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": "lake"})
        yield client


@pytest.fixture
def cat_dir(tmp_path) -> Path:
    return tmp_path / "iceberg" / CAT


def metadata(tmp_path: Path, parent: str | None = None, snapshot: tuple[str, int] | None = None) -> str:
    """A metadata file of table lake.t, descending from ``parent`` (its metadata-log lists the lineage), with
    one snapshot by ``snapshot`` = (Spark application id, timestamp ms) if given."""
    log = []
    if parent:
        prev = json.loads(Path(parent.removeprefix("file:")).read_text())
        log = prev["metadata-log"] + [{"timestamp-ms": 0, "metadata-file": parent}]
    path = tmp_path / "warehouse" / "lake" / "t" / "metadata" / f"{uuid.uuid4()}.metadata.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "location": str(path.parents[1]), "current-schema-id": 0, "metadata-log": log,
        "schemas": [{"schema-id": 0, "fields": [{"id": 1, "name": "id", "type": "long", "required": False}]}],
        "snapshots": [{"snapshot-id": 1, "timestamp-ms": snapshot[1], "summary": {"spark.app.id": snapshot[0]}}]
        if snapshot else [],
    }))
    return f"file:{path}"


def local_commit(cat_dir: Path, new: str, expected: str | None) -> None:
    """JdbcCatalog's commit: a compare-and-swap on the row (create when ``expected`` is None)."""
    con = sqlite3.connect(cat_dir / "catalog.db", isolation_level=None)
    try:
        if expected is None:
            con.execute("INSERT INTO iceberg_tables VALUES (?, 'lake', 't', ?, NULL, 'TABLE')", (CAT, new))
            return
        n = con.execute("UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
                        "WHERE catalog_name = ? AND table_namespace = 'lake' AND table_name = 't' "
                        "AND metadata_location = ?", (new, expected, CAT, expected)).rowcount
        assert n == 1, "commit conflict"
    finally:
        con.close()


def local_location(cat_dir: Path) -> str | None:
    tables, _ = catalog_sync.read_local_catalog(cat_dir / "catalog.db", CAT)
    return next((t.metadata_location for t in tables if (t.namespace, t.name) == ("lake", "t")), None)


def glue_location(glue) -> str | None:
    try:
        return glue.get_table(DatabaseName="lake", Name="t")["Table"]["Parameters"]["metadata_location"]
    except glue.exceptions.EntityNotFoundException:
        return None


def sync(kind: str, glue, cat_dir: Path, presynced=None, writer=None):
    lines: list[str] = []
    with catalog_sync.sync_lock(cat_dir.parent):
        if kind == "pre":
            return catalog_sync.presync(glue, {CAT: cat_dir}, None, lines.append), lines
        catalog_sync.postsync(glue, {CAT: cat_dir}, presynced or {}, None, lines.append, writer)
        return None, lines


def test_a_new_table_is_created_in_glue_and_registered_by_a_fresh_catalog(glue, cat_dir, tmp_path):
    sync("pre", glue, cat_dir)  # creates the JDBC schema and the namespace
    v1 = metadata(tmp_path)
    local_commit(cat_dir, v1, None)
    assert sync("pre", glue, cat_dir)[0] == {CAT: {("lake", "t"): v1}}  # new, never in Glue: kept
    sync("post", glue, cat_dir)
    assert glue_location(glue) == v1

    fresh = tmp_path / "other" / CAT
    presynced, lines = sync("pre", glue, fresh)
    assert local_location(fresh) == v1 and presynced == {CAT: {("lake", "t"): v1}}
    assert any("registered lake.t" in line for line in lines)


def test_overlapping_runs_never_roll_glue_back(glue, cat_dir, tmp_path):
    """Run A presyncs, run B commits and writes back, A's stale view of Glue must not undo B's commit;
    A's own commit (built on B's) then reaches Glue with B's as its previous location."""
    v1 = metadata(tmp_path)
    sync("pre", glue, cat_dir)
    local_commit(cat_dir, v1, None)
    sync("post", glue, cat_dir)

    presynced_a, _ = sync("pre", glue, cat_dir)
    v2 = metadata(tmp_path, v1)  # run B
    local_commit(cat_dir, v2, v1)
    # A run whose write-back is still pending: a presync in between keeps the local commit (Glue at its ancestor).
    sync("pre", glue, cat_dir)
    assert local_location(cat_dir) == v2
    sync("post", glue, cat_dir)
    assert glue_location(glue) == v2

    v3 = metadata(tmp_path, v2)  # run A, after Iceberg refreshed on its failed compare-and-swap
    with pytest.raises(AssertionError, match="conflict"):
        local_commit(cat_dir, metadata(tmp_path, v1), v1)
    local_commit(cat_dir, v3, v2)
    sync("post", glue, cat_dir, presynced_a)
    table = glue.get_table(DatabaseName="lake", Name="t")["Table"]
    assert table["Parameters"]["metadata_location"] == v3
    assert table["Parameters"]["previous_metadata_location"] == v2
    # A catalog behind Glue (its table an ancestor of Glue's) writes nothing back.
    other = tmp_path / "other" / CAT
    sync("pre", glue, other)
    assert local_location(other) == v3


def test_glue_moved_elsewhere_wins_before_a_run_and_is_never_overwritten_after(glue, cat_dir, tmp_path):
    v1 = metadata(tmp_path)
    sync("pre", glue, cat_dir)
    local_commit(cat_dir, v1, None)
    sync("post", glue, cat_dir)

    elsewhere = metadata(tmp_path)  # e.g. the table re-created outside the local runs
    glue.update_table(DatabaseName="lake", TableInput=catalog_sync.glue_table_input("t", elsewhere, v1))
    sync("pre", glue, cat_dir)
    assert local_location(cat_dir) == elsewhere

    local_commit(cat_dir, metadata(tmp_path, elsewhere), elsewhere)
    outside = metadata(tmp_path)
    glue.update_table(DatabaseName="lake", TableInput=catalog_sync.glue_table_input("t", outside, elsewhere))
    with pytest.raises(catalog_sync.CatalogSyncError, match="does not descend from"):
        sync("post", glue, cat_dir)
    assert glue_location(glue) == outside


def test_a_table_deleted_from_glue_is_unregistered(glue, cat_dir, tmp_path):
    v1 = metadata(tmp_path)
    sync("pre", glue, cat_dir)
    local_commit(cat_dir, v1, None)
    sync("post", glue, cat_dir)
    glue.delete_table(DatabaseName="lake", Name="t")
    _, lines = sync("pre", glue, cat_dir)
    assert local_location(cat_dir) is None
    assert any("unregistered lake.t" in line for line in lines)


def test_a_table_the_run_dropped_is_deleted_from_glue(glue, cat_dir, tmp_path):
    v1 = metadata(tmp_path)
    sync("pre", glue, cat_dir)
    local_commit(cat_dir, v1, None)
    sync("post", glue, cat_dir)
    presynced, _ = sync("pre", glue, cat_dir)
    con = sqlite3.connect(cat_dir / "catalog.db", isolation_level=None)
    con.execute("DELETE FROM iceberg_tables WHERE table_name = 't'")  # DROP TABLE (without PURGE)
    con.close()
    sync("post", glue, cat_dir, presynced)
    assert glue_location(glue) is None


def test_the_sync_lock_excludes_and_its_wait_is_bounded(tmp_path):
    held, release = threading.Event(), threading.Event()

    def holder():
        with catalog_sync.sync_lock(tmp_path):
            held.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(30)
        with pytest.raises(catalog_sync.CatalogSyncError, match="not free within"), \
                catalog_sync.sync_lock(tmp_path, deadline_s=0.3):
            pass
    finally:
        release.set()
        t.join(30)
    with catalog_sync.sync_lock(tmp_path, deadline_s=5):
        pass


def test_a_run_writes_back_its_own_commits_not_another_runs_pending_one(glue, cat_dir, tmp_path):
    """An ingest commits locally; an overlapping view job (another driver, another role) finishes first: its
    write-back must leave the ingest's commit to the ingest (the view role may not update the table)."""
    v1 = metadata(tmp_path)
    sync("pre", glue, cat_dir)
    local_commit(cat_dir, v1, None)
    sync("post", glue, cat_dir)
    v2 = metadata(tmp_path, v1, snapshot=("local-ingest-driver", 2_000))
    local_commit(cat_dir, v2, v1)
    _, lines = sync("post", glue, cat_dir, writer=("local-views-driver", 1_000))
    assert glue_location(glue) == v1 and any("left for that run's write-back" in line for line in lines)
    _, _ = sync("post", glue, cat_dir, writer=("local-ingest-driver", 3_000))  # a later run of that driver
    assert glue_location(glue) == v1
    sync("post", glue, cat_dir, writer=("local-ingest-driver", 1_500))
    assert glue_location(glue) == v2
