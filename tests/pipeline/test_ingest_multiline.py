"""RFC 4180 in full (issue 12 part 1): quoted values spanning lines load intact whatever their line
breaks (LF, CRLF, CR, mixed in one file), rejects name the record's first physical line, a quote left
open runs to the end of the file and is rejected, gzip files load the same, and all of it holds when
the file is read as many Spark partitions (records straddle them).

The expected rows and line numbers come from Python's csv module (an independent RFC 4180 reader)."""

import csv
import gzip
import io
from pathlib import Path

import pytest

from lakepipe.ingest import run_ingest
from lakepipe.spec import load_spec_file, parse_spec

from .conftest import CATALOG
from .helpers import read_rejects

ROOT = Path(__file__).resolve().parents[2]
HEADER = "entity1,entity2,entity3,entity4,key,value"


@pytest.fixture(scope="module")
def spec():
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    return parse_spec({**raw, "table": "entities_multiline_tests"})


def ingest(spark, spec, path, run_id, rejects, table):
    s = parse_spec({**spec.to_dict(), "table": table})
    return run_ingest(spark, s, source_uri=f"file://{path}", source_version="v1", run_id=run_id,
                      rejects_location=f"file://{rejects}/", glue_catalog=CATALOG), f"{CATALOG}.{s.database}.{table}"


def records_of(data: bytes) -> list[tuple[int, list[str]]]:
    """(first physical line, fields) per record, by Python's csv module (newline='': breaks kept)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    out, first = [], 1
    for fields in reader:
        out.append((first, fields))
        first = reader.line_num + 1
    return out


def table_of(spark, table, spec) -> dict[tuple, str]:
    return {tuple(r[:5]): r[5] for r in spark.table(table).select(*spec.data_columns).collect()}


VALUES = {  # key -> a value spanning lines in every way the file may hold them
    "lf": "first line\nsecond line",
    "crlf": "first line\r\nsecond, with a comma\r\nthird",
    "cr": "old Mac\rline",
    "mixed": 'a "quoted" word\n\r\nthen CR\rand LF\n',
    "empty_lines": "\n\n",
    "plain": "one line",
}


def mixed_file() -> bytes:
    """Rows of every kind, the lines of the file ending in LF, CRLF and CR by turns."""
    ends = ["\n", "\r\n", "\r"]
    out = io.StringIO(newline="")
    out.write(HEADER + "\n")
    n = 0
    for split in ("Alpha", "Beta"):
        for key, value in VALUES.items():
            w = csv.writer(out, lineterminator=ends[n % 3])
            w.writerow([split, "r1", "2024", "H1", key, value])
            n += 1
    return out.getvalue().encode("utf-8")


def test_values_spanning_lines_load_intact_with_mixed_line_endings(spark, spec, tmp_path):
    src = tmp_path / "multiline.csv"
    src.write_bytes(mixed_file())
    res, table = ingest(spark, spec, src, "run-ml", tmp_path, "entities_ml_mixed")
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (12, 12, 0)
    got = table_of(spark, table, spec)
    assert got == {(s, "r1", "2024", "H1", k): v for s in ("Alpha", "Beta") for k, v in VALUES.items()}


def test_rejects_name_the_first_line_of_a_record(spark, spec, tmp_path):
    data = (HEADER + "\n"
            'A,r,2024,H1,k1,"spans\nthree\nlines"\n'       # 2-4: superseded by line 9
            'A,r,2024,H1,k2,"two\r\nlines",extra\r\n'      # 5-6: wrong field count
            "A,r,2024,H1,k3,fine\n"                         # 7
            "\n"                                            # 8: blank
            'A,r,2024,H1,k1,"the\rwinner"\n'               # 9-10
            ',r,2024,H1,k4,"no split\nvalue"\n'            # 11-12: empty split value
            'A,r,2024,H1,k5,"never\nclosed\n'              # 13-15: open to the end of the file
            "A,r,2024,H1,k6,swallowed\n").encode()
    src = tmp_path / "rejects.csv"
    src.write_bytes(data)
    res, table = ingest(spark, spec, src, "run-rj", tmp_path, "entities_ml_rejects")
    assert (res.rows_read, res.rows_loaded, res.blank_lines) == (6, 2, 1)
    assert res.rejects_by_reason == {"unparseable": 1, "wrong_field_count": 1, "empty_split_value": 1,
                                     "duplicate_key": 1}
    rejects = read_rejects(tmp_path / "entities" / "run-rj")
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (2, "duplicate_key"), (5, "wrong_field_count"), (11, "empty_split_value"), (13, "unparseable")]
    assert rejects[0]["record"] == 'A,r,2024,H1,k1,"spans\nthree\nlines"'
    assert rejects[0]["detail"] == "superseded by a later line; winning line 9"
    assert rejects[1]["record"] == 'A,r,2024,H1,k2,"two\r\nlines",extra'
    assert rejects[3]["record"] == 'A,r,2024,H1,k5,"never\nclosed\nA,r,2024,H1,k6,swallowed'
    assert "not closed before the end of the file" in rejects[3]["detail"]
    assert table_of(spark, table, spec) == {("A", "r", "2024", "H1", "k1"): "the\rwinner",
                                            ("A", "r", "2024", "H1", "k3"): "fine"}


def straddling_file(rows: int = 90) -> bytes:
    """Values spanning up to five lines, every third record; with tiny input splits many records cross
    a split boundary, some splits start inside a quoted value and some lie wholly inside one."""
    out = io.StringIO(newline="")
    out.write(HEADER + "\r\n")
    w = csv.writer(out, lineterminator="\n")
    for i in range(rows):
        value = f"v{i}"
        if i % 3 == 0:
            value = "\n".join(f'line {j} of "{i}", x' for j in range(i % 5 + 1))
        if i % 7 == 0:
            value = value.replace("\n", "\r\n")
        w.writerow([f"Split {i % 4}", "r", "2024", "H1", f"k{i % 40}", value])
        if i == 45:
            w.writerow([f"Split {i % 4}", "r", "2024", "H1", "k_bad", "multi\nline", "extra"])
    out.write('Split 0,r,2024,H1,k_open,"open\nto the end\n')
    return out.getvalue().encode("utf-8")


def expected_of(data: bytes) -> tuple[dict[tuple, str], list[tuple[int, str]]]:
    """The table (last record of a key wins) and the rejected (line, reason) pairs, by Python's csv."""
    text = data.decode()
    unclosed = text.rindex("Split 0,r,2024,H1,k_open")
    open_at = text.count("\n", 0, unclosed) + 1  # the unclosed record's line
    records = records_of(data[:unclosed])[1:]
    winners: dict[tuple, tuple[int, str]] = {}
    rejects = []
    for line, fields in records:
        if len(fields) != 6:
            rejects.append((line, "wrong_field_count"))
            continue
        nk = tuple(fields[:5])
        if nk in winners:
            old_line, old_value = winners[nk]
            rejects.append((old_line, "duplicate_row" if old_value == fields[5] else "duplicate_key"))
        winners[nk] = (line, fields[5])
    rejects.append((open_at, "unparseable"))
    return {k: v for k, (_, v) in winners.items()}, sorted(rejects)


@pytest.mark.parametrize("compressed", [False, True], ids=["csv", "gzip"])
def test_records_straddling_partitions_and_gzip(spark, spec, tmp_path, compressed):
    data = straddling_file()
    want_table, want_rejects = expected_of(data)
    src = tmp_path / ("straddle.csv.gz" if compressed else "straddle.csv")
    src.write_bytes(gzip.compress(data) if compressed else data)
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    spark.conf.set(key, "256")
    try:
        partitions = spark.read.text(str(src)).rdd.getNumPartitions()
        assert partitions == 1 if compressed else partitions >= 10, partitions  # gzip cannot be split
        name = "entities_ml_gz" if compressed else "entities_ml_split"
        res, table = ingest(spark, spec, src, "run-st", tmp_path, name)
    finally:
        spark.conf.set(key, before)
    got = read_rejects(tmp_path / "entities" / "run-st")
    assert [(r["line"], r["reason"]) for r in got] == want_rejects
    assert table_of(spark, table, spec) == want_table
    assert res.rows_loaded == len(want_table)
    # each rejected record's text is the file's text from its first line on
    text = data.decode()
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    assert all(text[starts[r["line"] - 1]:].startswith(r["record"]) for r in got)
