"""lakepipe.ordering without Spark: S3's order values, and the guard's SQL evaluated row by row in DuckDB."""

import datetime as dt

import duckdb
import pytest
import sqlglot

from lakepipe.ordering import (
    SEQUENCER_WIDTH,
    OrderError,
    SourceOrder,
    changed_row_condition,
    format_event_time,
    merge_sql,
    normalize_sequencer,
    parse_event_time,
    replace_condition,
    replace_condition_sql,
)
from lakepipe.spec import parse_spec

SPEC = parse_spec({"name": "e", "raw_prefix": "incoming/e/", "database": "lake", "table": "e"})


def test_sequencers_compare_as_s3_says_after_right_padding():
    # S3: "first right pad the shorter value with zeros, and then do a lexicographical comparison"
    assert normalize_sequencer("0055AED6DCD90281E5") > normalize_sequencer("0055AED6DCD90281E4")
    assert normalize_sequencer("0055AED6DCD90281E5") > normalize_sequencer("0055AED6DCD902")  # shorter pads right
    assert normalize_sequencer("0055aed6dcd90281e5") == normalize_sequencer("0055AED6DCD90281E5")
    assert len(normalize_sequencer("1")) == SEQUENCER_WIDTH
    for bad in ("", "xyz", "0x12", "1" * (SEQUENCER_WIDTH + 1)):
        with pytest.raises(OrderError):
            normalize_sequencer(bad)


def test_event_time_is_naive_utc_and_round_trips():
    assert parse_event_time("2026-11-30T12:00:01.250Z") == dt.datetime(2026, 11, 30, 12, 0, 1, 250000)
    assert parse_event_time("2026-11-30T13:00:01.250+01:00") == dt.datetime(2026, 11, 30, 12, 0, 1, 250000)
    assert format_event_time(parse_event_time("2026-11-30T12:00:01.250Z")) == "2026-11-30T12:00:01.250Z"
    for bad in ("", "yesterday", "2026-11-30T12:00:01"):  # the last has no zone: refused, not guessed
        with pytest.raises(OrderError):
            parse_event_time(bad)


def test_job_arguments_without_an_order_mean_an_unordered_load():
    assert SourceOrder.from_args({}) is None
    assert SourceOrder.from_args({"source_event_time": "", "source_sequencer": "0A"}) is None
    assert SourceOrder.from_args({"source_event_time": "2026-11-30T12:00:00.000Z", "source_sequencer": "0a"}) == \
        SourceOrder(dt.datetime(2026, 11, 30, 12), normalize_sequencer("0A"))


T0 = "2026-11-30 12:00:00"
T1 = "2026-11-30 12:00:05"
A, B = "s3://raw/incoming/e/a.csv", "s3://raw/incoming/e/b.csv"


def _row(file, time, seq, value="x"):
    return {"lakepipe_source_file": file, "lakepipe_source_event_time": time,
            "lakepipe_source_sequencer": normalize_sequencer(seq) if seq else None, "value": value}


def _evaluate(condition_sql: str, target: dict, source: dict) -> bool:
    """The Spark SQL condition, translated by sqlglot, over one target row `t` and one source row `s`."""
    con = duckdb.connect()
    for alias, row in (("t", target), ("s", source)):
        cols = ", ".join(
            f"CAST(? AS {'TIMESTAMP' if k.endswith('event_time') else 'VARCHAR'}) AS \"{k}\"" for k in row)
        con.execute(f"CREATE TABLE {alias} AS SELECT {cols}", list(row.values()))
    condition = sqlglot.transpile(condition_sql, read="spark", write="duckdb")[0]
    return con.execute(f"SELECT {condition} FROM t, s").fetchone()[0]


CASES = [
    # (target row, source row, does the source replace it?)
    ("v2 then v1 of one key: the greater sequencer stays", _row(A, T1, "02"), _row(A, T0, "01"), False),
    ("v1 then v2 of one key", _row(A, T0, "01"), _row(A, T1, "02"), True),
    ("one key: the sequencer decides even against the event time", _row(A, T1, "01"), _row(A, T0, "02"), True),
    ("another file uploaded later wins", _row(A, T0, "09"), _row(B, T1, "01"), True),
    ("another file uploaded earlier loses", _row(B, T1, "01"), _row(A, T0, "09"), False),
    ("equal times: the greater source URI wins", _row(A, T0, "05"), _row(B, T0, "01"), True),
    ("equal times: ... and the smaller loses", _row(B, T0, "01"), _row(A, T0, "05"), False),
    ("the same version again changes nothing", _row(A, T0, "01"), _row(A, T0, "01"), False),
    ("a row from before ordering (NULL order) loses to any ordered source", _row(A, None, None), _row(A, T0, "01"),
     True),
    ("an equal value from a newer source still replaces (it records the newer source)",
     _row(A, T0, "01", "same"), _row(B, T1, "01", "same"), True),
]


@pytest.mark.parametrize("target,source,replaces", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_ordered_guard(target, source, replaces):
    assert _evaluate(replace_condition_sql(SPEC, ordered=True), target, source) is replaces


def test_the_unordered_rule_is_the_old_one_a_differing_value_replaces():
    newer_equal = (_row(A, T0, "01", "v"), _row(A, T1, "02", "v"))
    assert _evaluate(replace_condition_sql(SPEC, ordered=False), *newer_equal) is False
    assert _evaluate(replace_condition_sql(SPEC, ordered=False), _row(A, T1, "02", "v"), _row(A, None, None, "w"))


def test_the_diff_keeps_exactly_what_the_merge_would_change():
    """changed_row_condition after the left join on the key: a key the table lacks (its columns NULL) is an insert,
    a key it has is kept exactly when the MERGE's WHEN MATCHED AND replace takes it."""
    key = {c: "k" for c in SPEC.natural_key if c != "value"}
    changed = changed_row_condition(SPEC, replace_condition(SPEC, ordered=True)).sql(dialect="spark")
    for _, target, source, replaces in CASES:
        t, s = {**target, **key}, {**source, **key}
        assert _evaluate(changed, t, s) is replaces
        assert _evaluate(changed, {c: None for c in t}, s) is True


def test_merge_sql_writes_the_order_columns_and_guards_the_update():
    sql = merge_sql(SPEC, "`glue_catalog`.`lake`.`e`", "lakepipe_src_1", ordered=True)
    parsed = sqlglot.parse_one(sql, read="spark")
    assert isinstance(parsed, sqlglot.exp.Merge)
    assert f"WHEN MATCHED AND {replace_condition_sql(SPEC, ordered=True)} THEN UPDATE SET" in sql
    for column in ("lakepipe_source_event_time", "lakepipe_source_sequencer", "lakepipe_run_id"):
        assert f"t.`{column}` = s.`{column}`" in sql and f"s.`{column}`" in sql.split("VALUES")[1]
    # a hostile view name stays one quoted identifier
    assert "USING `a``b` s" in merge_sql(SPEC, "x", "a`b", ordered=False)
