"""lakepipe.reload in local Spark: a re-load the current snapshot proves a no-op reads nothing but the file's
bytes; anything the proof does not cover takes the full load."""

import shutil
from pathlib import Path

import pytest

import lakepipe.ingest as ingest_module
from lakepipe import reload
from lakepipe.ingest import run_ingest
from lakepipe.ordering import SourceOrder
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import read_rejects, snapshot_ids, table_rows

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
HEADER = "entity1,entity2,entity3,entity4,key,value\n"


@pytest.fixture
def spec(request):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": f"reload_{request.node.name.lower()[5:45]}"})


@pytest.fixture
def table(spark, spec):
    name = f"{CATALOG}.{spec.database}.{spec.table}"
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    return name


def ingest(spark, spec, path, run_id, rejects, version="v1", order=None):
    return run_ingest(spark, spec, source_uri=f"file://{path}", source_version=version, run_id=run_id,
                      rejects_location=f"file://{rejects}/", glue_catalog=CATALOG, source_order=order)


@pytest.fixture(params=["driver", "spark"])
def rejects_path(request, monkeypatch):
    """Both ways rejects are copied: through the driver (up to SMALL_REJECTS) and through Spark."""
    if request.param == "spark":
        monkeypatch.setattr(reload, "SMALL_REJECTS", 0)
    return request.param


@pytest.fixture
def no_full_load(monkeypatch):
    """Makes reading the file fail: a run that still succeeds did not read it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the file was read")

    def apply():
        monkeypatch.setattr(ingest_module, "_load_file", refuse)
    return apply


def test_the_same_bytes_again_read_nothing_and_copy_the_rejects(spark, spec, table, tmp_path, no_full_load,
                                                                rejects_path):
    src = tmp_path / "bad.csv"
    shutil.copy(DATA / "bad_rows.csv", src)
    first = ingest(spark, spec, src, "run-1", tmp_path)
    assert first.table_created and first.unchanged_since_run is None
    snaps, rows = snapshot_ids(spark, table), spark.table(table).collect()
    summary = spark.sql(f"SELECT summary FROM {table}.snapshots").first()[0]
    proof = reload.LoadProof.from_property(summary[reload.PROPERTY])
    assert (proof.run_id, proof.source_uri, proof.order) == ("run-1", f"file://{src}", None)

    no_full_load()
    again = ingest(spark, spec, src, "run-2", tmp_path, version="v2")
    assert again.unchanged_since_run == "run-1"
    assert (again.rows_read, again.rows_loaded, again.rows_rejected, again.rows_changed, again.table_created) == (
        first.rows_read, first.rows_loaded, first.rows_rejected, 0, False)
    assert again.rejects_by_reason == first.rejects_by_reason and again.blank_lines == first.blank_lines
    assert again.quality == first.quality
    assert snapshot_ids(spark, table) == snaps and spark.table(table).collect() == rows
    assert again.rejects_location == f"file://{tmp_path}/entities/run-2/"
    before, after = read_rejects(tmp_path / "entities" / "run-1"), read_rejects(tmp_path / "entities" / "run-2")
    assert len(after) == first.rows_rejected == 8
    assert {(r["run_id"], r["source_version"]) for r in after} == {("run-2", "v2")}
    fields = ("dataset", "source_file", "line", "reason", "detail", "record")
    assert [[r[f] for f in fields] for r in after] == [[r[f] for f in fields] for r in before]
    assert list(after[0]) == list(before[0])  # the writer's field order

    # the proof stays with the snapshot: a third load is proven by run-1 too
    assert ingest(spark, spec, src, "run-3", tmp_path).unchanged_since_run == "run-1"
    # run-1 again (its ledger entry lost): its rejects are where they were, left as they were
    assert ingest(spark, spec, src, "run-1", tmp_path).unchanged_since_run == "run-1"
    assert read_rejects(tmp_path / "entities" / "run-1") == before


def test_what_the_proof_does_not_cover_is_loaded(spark, spec, table, tmp_path):
    src, other = tmp_path / "a.csv", tmp_path / "b.csv"
    src.write_text(HEADER + "ACME,EMEA,2024,H1,revenue,1\nACME,EMEA,2024,H1,cost,2\n")
    other.write_text(HEADER + "ACME,EMEA,2024,H1,revenue,9\n")
    ingest(spark, spec, src, "run-a", tmp_path)

    # other bytes at the same URI: loaded; its partition rewrite proves the next re-load
    src.write_text(HEADER + "ACME,EMEA,2024,H1,revenue,1\nACME,EMEA,2024,H1,cost,3\n")
    changed = ingest(spark, spec, src, "run-a2", tmp_path)
    assert changed.unchanged_since_run is None and changed.rows_changed == 1
    assert ingest(spark, spec, src, "run-a3", tmp_path).unchanged_since_run == "run-a2"

    # another file's commit since: the same bytes are loaded again, and win back their key
    ingest(spark, spec, other, "run-b", tmp_path)
    back = ingest(spark, spec, src, "run-a4", tmp_path)
    assert back.unchanged_since_run is None and back.rows_changed == 1
    assert ("ACME", "EMEA", "2024", "H1", "revenue", "1") in table_rows(spark, table, spec)

    # a MERGE commit (a partition that only gains keys) carries no proof
    grows = tmp_path / "c.csv"
    grows.write_text(HEADER + "ACME,EMEA,2024,H1,margin,5\n")
    ingest(spark, spec, grows, "run-c", tmp_path)
    assert reload.current_proof(spark, CATALOG, spec.database, spec.table)[1] is None
    assert ingest(spark, spec, grows, "run-c2", tmp_path).unchanged_since_run is None


def test_an_order_is_part_of_the_proof(spark, spec, table, tmp_path, no_full_load):
    src = tmp_path / "a.csv"
    src.write_text(HEADER + "ACME,EMEA,2024,H1,revenue,1\n")
    v1 = SourceOrder.from_event("2026-01-01T00:00:00.000Z", "0A")
    v2 = SourceOrder.from_event("2026-01-01T00:01:00.000Z", "0B")
    ingest(spark, spec, src, "run-1", tmp_path, order=v1)
    # unordered, or a newer version of the same bytes: loaded (the newer one takes its rows)
    assert ingest(spark, spec, src, "run-plain", tmp_path).unchanged_since_run is None
    newer = ingest(spark, spec, src, "run-2", tmp_path, version="v2", order=v2)
    assert newer.unchanged_since_run is None and newer.rows_changed == 1
    seq = spark.table(table).select("lakepipe_source_sequencer").first()[0]
    assert seq == v2.sequencer
    no_full_load()
    assert ingest(spark, spec, src, "run-2b", tmp_path, version="v2", order=v2).unchanged_since_run == "run-2"


def test_rejects_that_are_unreadable_short_or_gone_are_written_by_a_full_load(spark, spec, table, tmp_path, caplog,
                                                                             rejects_path):
    src = tmp_path / "bad.csv"
    shutil.copy(DATA / "bad_rows.csv", src)
    ingest(spark, spec, src, "run-1", tmp_path)
    earlier = tmp_path / "entities" / "run-1"
    part = next(earlier.glob("part-*.json"))
    lines = part.read_text().splitlines()
    unreadable = {"driver": "(JSONDecodeError)", "spark": "(Py4JJavaError)"}[rejects_path]
    gone = {"driver": "(FileNotFoundError)", "spark": "(AnalysisException)"}[rejects_path]
    caplog.set_level("INFO", logger="lakepipe.reload")
    for run_id, damage, why in (("run-2", "unreadable", unreadable), ("run-3", "one short", "left 7 of its 8 rejects"),
                                ("run-4", "gone", gone)):
        if damage == "unreadable":  # not JSON; Spark also finds Hadoop's .crc beside it no longer matching
            part.write_text("\n".join(lines[:-1]) + "\n{not json\n")
        if damage == "one short":
            part.write_text("\n".join(lines[:-1]) + "\n")
            for crc in earlier.glob(".*.crc"):
                crc.unlink()
        if damage == "gone":
            shutil.rmtree(earlier)
        caplog.clear()
        again = ingest(spark, spec, src, run_id, tmp_path)
        assert again.unchanged_since_run is None, damage
        assert "run run-1" in caplog.text and f"file://{earlier}/" in caplog.text and why in caplog.text, caplog.text
        assert again.rows_rejected == 8 and len(read_rejects(tmp_path / "entities" / run_id)) == 8, damage


def test_a_spec_change_is_loaded(spark, spec, table, tmp_path):
    src = tmp_path / "a.csv"
    src.write_text(HEADER + "ACME,EMEA,2024,H1,revenue,1\n")
    ingest(spark, spec, src, "run-1", tmp_path)
    changed = parse_spec({**spec.to_dict(), "rename": {"val": "value"}})
    res = run_ingest(spark, changed, source_uri=f"file://{src}", source_version="v1", run_id="run-2",
                     rejects_location=f"file://{tmp_path}/", glue_catalog=CATALOG)
    assert res.unchanged_since_run is None and res.rows_changed == 0
