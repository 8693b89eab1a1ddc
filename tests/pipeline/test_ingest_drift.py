"""Schema drift (issue 12 part 2): extra columns are reported; with keep_extra_columns they are added to the
table (ALTER TABLE ... ADD COLUMNS before the MERGE) and kept through later loads; `rename` maps header
aliases onto the dataset's columns."""

from pathlib import Path

from lakepipe.ingest import run_ingest
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import snapshot_ids

ROOT = Path(__file__).resolve().parents[2]


def spec_for(table: str, **fields):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": table, **fields})


def ingest(spark, spec, path, run_id, tmp_path):
    return run_ingest(spark, spec, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def columns(spark, table):
    return [f.name for f in spark.table(table).schema.fields]


def test_extra_columns_are_reported_and_not_loaded_by_default(spark, tmp_path):
    spec = spec_for("entities_drift_default")
    src = write(tmp_path / "a.csv", "entity1,entity2,entity3,entity4,key,value,Unit\nA,b,c,d,k,1,EUR\n")
    res = ingest(spark, spec, src, "run-d1", tmp_path)
    assert res.extra_columns == ["Unit"] and res.extra_columns_kept == {}
    assert res.report()["extra_columns"] == ["Unit"]
    table = f"{CATALOG}.lake.entities_drift_default"
    assert "unit" not in columns(spark, table) and res.rows_loaded == 1


def test_keep_extra_columns_and_rename_across_loads(spark, tmp_path):
    spec = spec_for("entities_drift_keep", keep_extra_columns=True, rename={"Entity 1": "entity1", "amount": "value"})
    table = f"{CATALOG}.lake.entities_drift_keep"
    first = write(tmp_path / "1.csv", "Entity 1,entity2,entity3,entity4,key,amount,Unit\n"
                                      "A,b,c,d,k1,1,EUR\nA,b,c,d,k2,2,USD\n")
    res = ingest(spark, spec, first, "run-k1", tmp_path)
    assert res.table_created and res.extra_columns_kept == {"unit": "Unit"}
    assert columns(spark, table)[:7] == [*spec.data_columns, "unit"]

    # a new extra column on a table that exists: ALTER TABLE, then one MERGE writes it
    second = write(tmp_path / "2.csv", "entity1,entity2,entity3,entity4,key,value,unit,Comment (free text)\n"
                                       "A,b,c,d,k2,20,GBP,changed\nA,b,c,d,k3,3,CHF,new\n")
    snaps = snapshot_ids(spark, table)
    res = ingest(spark, spec, second, "run-k2", tmp_path)
    assert res.extra_columns == ["unit", "Comment (free text)"]
    assert res.extra_columns_kept == {"unit": "unit", "comment_free_text": "Comment (free text)"}
    assert "comment_free_text" in columns(spark, table)
    assert len(snapshot_ids(spark, table)) == len(snaps) + 1  # one data commit (a schema change is no snapshot)

    # a file without the extra columns: they stay in the table, the rows it updates keep their values
    third = write(tmp_path / "3.csv", "entity1,entity2,entity3,entity4,key,value\nA,b,c,d,k1,100\nA,b,c,d,k4,4\n")
    res = ingest(spark, spec, third, "run-k3", tmp_path)
    assert res.extra_columns == [] and res.rows_changed == 2
    rows = {r["key"]: (r["value"], r["unit"], r["comment_free_text"])
            for r in spark.table(table).select("key", "value", "unit", "comment_free_text").collect()}
    assert rows == {"k1": ("100", "EUR", None), "k2": ("20", "GBP", "changed"), "k3": ("3", "CHF", "new"),
                    "k4": ("4", None, None)}


def test_a_change_in_a_kept_extra_column_alone_updates_the_row(spark, tmp_path):
    """keep_extra_columns: a re-load whose only change is in an extra column (same value) updates the row;
    the same file twice changes nothing; a line differing from a later one of its key only in an extra
    column is a duplicate_key (not an exact repeat)."""
    spec = spec_for("entities_drift_extra_only", keep_extra_columns=True)
    table = f"{CATALOG}.lake.entities_drift_extra_only"
    header = "entity1,entity2,entity3,entity4,key,value,unit\n"
    ingest(spark, spec, write(tmp_path / "1.csv", header + "A,b,c,d,k1,1,EUR\nA,b,c,d,k2,2,EUR\n"), "run-e1",
           tmp_path)
    changed = write(tmp_path / "2.csv", header + "A,b,c,d,k1,1,USD\nA,b,c,d,k2,2,EUR\n"
                                                 "A,b,c,d,k3,3,CHF\nA,b,c,d,k3,3,GBP\n")
    snaps = snapshot_ids(spark, table)
    res = ingest(spark, spec, changed, "run-e2", tmp_path)
    assert res.rows_changed == 2 and len(snapshot_ids(spark, table)) == len(snaps) + 1  # k1 updated, k3 new
    assert res.rejects_by_reason == {"duplicate_key": 1}
    rows = {r["key"]: (r["value"], r["unit"], r["lakepipe_run_id"])
            for r in spark.table(table).select("key", "value", "unit", "lakepipe_run_id").collect()}
    assert rows == {"k1": ("1", "USD", "run-e2"), "k2": ("2", "EUR", "run-e1"), "k3": ("3", "GBP", "run-e2")}

    snaps = snapshot_ids(spark, table)
    res = ingest(spark, spec, changed, "run-e3", tmp_path)  # the same file again: nothing to commit
    assert res.rows_changed == 0 and snapshot_ids(spark, table) == snaps
