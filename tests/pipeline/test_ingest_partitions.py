"""Line numbers and dedupe when one file is read as several Spark partitions (issue 11 item 7).

`spark.sql.files.maxPartitionBytes` is set so small that a ~3 KB file becomes about a dozen input
partitions: rejects and winners sit in different partitions from the lines they refer to, duplicates
straddle partitions, and line numbers must still be the file's physical line numbers. Both ways of
reading a file: line by line (no line with an odd number of quotes) and as RFC 4180 records (a value
spanning lines, and a quote left open at the end of the file)."""

from pathlib import Path

import pytest

from lakepipe.ingest import run_ingest
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import read_rejects, rows_sorted

ROOT = Path(__file__).resolve().parents[2]
HEADER = "entity1,entity2,entity3,entity4,key,value"
PARTITION_BYTES = 256


def build_file(path: Path, multiline: bool) -> tuple[list[tuple[int, str, str]], dict[tuple, str], int]:
    """A file with every reject reason spread over it; returns (expected rejects as (line, reason,
    detail)), the expected table (natural key -> value) and the number of data records."""
    lines = [HEADER]  # records; a record spanning lines holds its line breaks
    rejects: list[tuple[int, str, str]] = []
    occurrences: dict[tuple, list[tuple[int, str]]] = {}  # natural key -> (line, value) of its valid lines

    def add(text: str, key: tuple | None = None, value: str | None = None, reason: str | None = None,
            detail: str = "") -> None:
        first_line = sum(t.count("\n") + 1 for t in lines) + 1
        lines.append(text)
        if reason:
            rejects.append((first_line, reason, detail))
        elif key is not None:
            occurrences.setdefault(key, []).append((first_line, value))

    def row(i: int, value: str) -> tuple[str, tuple]:
        nk = (f"Split {i % 3}", f"region-{i % 5}", "2024", "H1", f"metric_{i:03d}")
        return ",".join([*nk, value]), nk

    for i in range(60):
        text, nk = row(i, f"{i}.0")
        if i == 3:
            add("Split 0,region-0,2024,H1,straddler,old",
                ("Split 0", "region-0", "2024", "H1", "straddler"), "old")
        if i == 7:
            add("Split 1,,,,same,42", ("Split 1", None, None, None, "same"), "42")
        if i == 9:
            add("Split 2,region-2,2024,H1,kept", reason="wrong_field_count",
                detail="expected 6 fields")
        if i == 12:
            add('"Split 0","region-0","2024","H1","quoted","1,5 ""x"""',
                ("Split 0", "region-0", "2024", "H1", "quoted"), '1,5 "x"')
        if i == 18:
            lines.append("")  # blank: skipped, but it has a line number
        if i == 21:
            add("Split 1,,,,same,42", ("Split 1", None, None, None, "same"), "42")
        if i == 25:
            add(",region-0,2024,H1,k,1", reason="empty_split_value",
                detail="entity1 is empty")
        if i == 33:
            add("Split 0,region-0,2024,H1, ,1", reason="empty_key", detail="key is empty")
        if i == 38 and multiline:  # a value of four lines (LF and CRLF), likely across a partition boundary
            add('Split 0,region-0,2024,H1,multi,"spans\nfour lines, ""quoted""\r\nand\n,commas"',
                ("Split 0", "region-0", "2024", "H1", "multi"), 'spans\nfour lines, "quoted"\r\nand\n,commas')
        if i == 44:
            add("Split 1,,,,same,42", ("Split 1", None, None, None, "same"), "42")
        if i == 50:
            # the same key as line 'straddler' but a wrong field count: not a candidate, the early line stays
            add("Split 0,region-0,2024,H1,straddler,x,y", reason="wrong_field_count",
                detail="expected 6 fields")
        if i == 57:
            add("Split 0,region-0,2024,H1,straddler,new",
                ("Split 0", "region-0", "2024", "H1", "straddler"), "new")
        add(text, nk, f"{i}.0")
    if multiline:
        add('Split 0,region-0,2024,H1,broken,"open', reason="unparseable",
            detail="a quoted value opened in this record is not closed before the end of the file")
    table = {}
    for key, seen in occurrences.items():  # the last valid line of a key wins; earlier ones are rejected
        last_line, table[key] = seen[-1]
        rejects += [(n, "duplicate_row" if v == table[key] else "duplicate_key", str(last_line)) for n, v in seen[:-1]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_lines = sum(1 for t in lines[1:] if t.strip())  # records
    return sorted(rejects), table, data_lines


@pytest.fixture(scope="module")
def spec():
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": "entities_partition_tests"})


def ingest(spark, spec, path, run_id, rejects, table):
    s = parse_spec({**spec.to_dict(), "table": table})
    return run_ingest(spark, s, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{rejects}/", glue_catalog=CATALOG)


@pytest.mark.parametrize("multiline", [False, True], ids=["lines", "records"])
def test_line_numbers_and_dedupe_across_partitions(spark, spec, tmp_path, multiline):
    src = tmp_path / "many_partitions.csv"
    expected_rejects, expected_table, data_lines = build_file(src, multiline)
    tables = [f"entities_partitions_{'records' if multiline else 'lines'}_{how}" for how in ("split", "whole")]
    assert src.stat().st_size > 10 * PARTITION_BYTES
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    spark.conf.set(key, str(PARTITION_BYTES))
    try:
        partitions = spark.read.text(str(src)).rdd.getNumPartitions()
        assert partitions >= 10, partitions
        split = ingest(spark, spec, src, "run-split", tmp_path / "split", tables[0])
    finally:
        spark.conf.set(key, before)
    assert spark.read.text(str(src)).rdd.getNumPartitions() == 1
    whole = ingest(spark, spec, src, "run-whole", tmp_path / "whole", tables[1])

    assert (split.rows_read, split.rows_loaded, split.blank_lines) == (data_lines, len(expected_table), 1)
    assert split.rejects_by_reason == {**({"unparseable": 1} if multiline else {}), "wrong_field_count": 2,
                                       "empty_split_value": 1, "empty_key": 1, "duplicate_key": 1, "duplicate_row": 2}
    got = read_rejects(tmp_path / "split" / "entities" / "run-split")
    got_lines = [(r["line"], r["reason"], r["detail"]) for r in got]
    want = [(n, reason, f"superseded by a later line; winning line {d}" if reason.startswith("duplicate") else d)
            for n, reason, d in expected_rejects]
    assert got_lines == want
    # each reject's record is exactly that physical line of the file
    file_lines = src.read_text(encoding="utf-8").split("\n")
    assert all(r["record"] == file_lines[r["line"] - 1] for r in got)

    table = f"{CATALOG}.{spec.database}.{tables[0]}"
    rows = {tuple(r[:5]): r[5] for r in spark.table(table).select(*spec.data_columns).collect()}
    assert rows == expected_table
    assert rows[("Split 0", "region-0", "2024", "H1", "straddler")] == "new"
    assert rows[("Split 0", "region-0", "2024", "H1", "quoted")] == '1,5 "x"'
    if multiline:
        assert rows[("Split 0", "region-0", "2024", "H1", "multi")] == 'spans\nfour lines, "quoted"\r\nand\n,commas'

    # read as one partition, the same file gives the same report, rejects and rows
    assert (whole.rows_read, whole.rows_loaded, whole.rejects_by_reason) == (
        split.rows_read, split.rows_loaded, split.rejects_by_reason)
    whole_rejects = read_rejects(tmp_path / "whole" / "entities" / "run-whole")
    assert [(r["line"], r["reason"], r["detail"], r["record"]) for r in whole_rejects] == [
        (r["line"], r["reason"], r["detail"], r["record"]) for r in got]
    whole_table = f"{CATALOG}.{spec.database}.{tables[1]}"
    assert rows_sorted(spark.table(whole_table).select(*spec.data_columns).collect()) == rows_sorted(
        spark.table(table).select(*spec.data_columns).collect())


def test_ndjson_records_exploded_into_rows_keep_their_line_numbers_across_partitions(spark, spec, tmp_path):
    """Each NDJSON record gives three rows (explode): a partition's line count is its records, not its rows,
    or every line number after the first partition is too high."""
    import json

    src = tmp_path / "many_partitions.json"
    records, broken = [], []
    for i in range(60):
        if i in (17, 41):
            records.append("{not json " + str(i))
            broken.append(i + 1)  # 1-based physical line
        else:
            records.append(json.dumps({"c": f"Split {i % 2}", "r": f"e{i}",
                                       "figures": [{"m": f"k{j}", "v": str(i * 10 + j)} for j in range(3)]}))
    src.write_text("\n".join(records) + "\n", encoding="utf-8")
    s = parse_spec({**spec.to_dict(), "table": "entities_partitions_ndjson", "format": "json",
                    "json": {"explode": "$.figures", "columns": {"entity1": "$.c", "entity2": "$.r",
                                                                 "key": "@.m", "value": "@.v"}}})
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    spark.conf.set(key, str(PARTITION_BYTES * 4))
    try:
        assert spark.read.text(str(src)).rdd.getNumPartitions() >= 5
        res = run_ingest(spark, s, source_uri=f"file://{src}", source_version="v1", run_id="run-ndjson",
                         rejects_location=f"file://{tmp_path}/rejects/", glue_catalog=CATALOG)
    finally:
        spark.conf.set(key, before)
    assert res.rejects_by_reason == {"unparseable": 2}
    got = read_rejects(tmp_path / "rejects" / "entities" / "run-ndjson")
    assert [(r["line"], r["reason"]) for r in got] == [(n, "unparseable") for n in broken]
    assert all(r["record"] == records[r["line"] - 1] for r in got)
    assert spark.table(f"{CATALOG}.{s.database}.{s.table}").count() == 58 * 3
