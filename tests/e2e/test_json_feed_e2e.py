"""A JSON feed end to end (issue 12): the bundled NDJSON sample (sample_data/filings_sample.ndjson: call report
filings, nested objects, an array of schedules exploded, one row per leaf item; one malformed line; one filing
with 1,600 items) is uploaded with the AWS CLI to the deployed stack's raw bucket. The trigger starts the run by
the `.ndjson` suffix; then the table holds what the sample says (computed here with Python's json module), the
malformed line is rejected with its line number, the views agree in Athena and Spark (one has 1,604 columns),
and the run's quality results are queryable in Athena."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakepipe.naming import column_names, execution_name
from lakepipe.recorder import run_paths
from lakepipe.s3util import get_json, split_s3_uri
from lakepipe.viewsql import MAX_VIEW_TEXT
from tools import local_lake

from .conftest import DeployedStack

pytestmark = pytest.mark.e2e

DATASET = "filings_json"
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "filings_sample.ndjson"
DEADLINE_S = 900


def leaves(obj: dict, prefix: str = "") -> dict[str, str]:
    """Leaf path below `obj` -> its value as text (numbers as written, arrays as compact JSON)."""
    out: dict[str, str] = {}
    for k, v in obj.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= leaves(v, path + ".")
        else:
            out[path] = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    return out


def expected_from_sample() -> tuple[dict[tuple, tuple[str, int]], list[int]]:
    """(natural key -> (amount, line)) and the malformed lines, read from the sample as the spec's json rule says."""
    rows, malformed = {}, []
    for line_no, text in enumerate(SAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rec = json.loads(text)
        except json.JSONDecodeError:
            malformed.append(line_no)
            continue
        for schedule in rec["schedules"]:
            for item, amount in leaves(schedule["items"]).items():
                key = (rec["filing"]["series"], rec["bank"].get("rssd"), rec["period"]["as_of"], schedule["code"], item)
                rows[key] = (amount, line_no)
    return rows, malformed


EXPECTED, MALFORMED = expected_from_sample()


def sorted_rows(result: list[list[str | None]]) -> list[list[str | None]]:
    """The rows without the header, None (a NULL id) first."""
    return sorted(result[1:], key=lambda row: [(v is not None, v or "") for v in row])


@pytest.fixture(scope="module")
def loaded(deployed_stack: DeployedStack, stack_env):
    """Upload once (AWS CLI), wait for the execution the trigger starts, return (spec, run record)."""
    spec = local_lake.dataset_spec(DATASET, deployed_stack.outputs)
    raw = deployed_stack.outputs["bucket_names"]["raw"]
    key = f"{spec.raw_prefix}{SAMPLE.name}"
    version = local_lake.upload(SAMPLE, raw, key)
    name = execution_name(spec.name, raw, key, version)
    done = local_lake.wait_for_execution(deployed_stack.outputs["state_machine_arn"], name, DEADLINE_S)
    assert done["status"] == "SUCCEEDED", local_lake.execution_error(done["executionArn"])
    record = get_json(deployed_stack.client("s3"), run_paths(deployed_stack.outputs["runs_location"], DATASET,
                                                             name)["record"])
    return spec, record


@pytest.fixture(scope="module")
def spark_lake(loaded):
    lake = local_lake.SparkLake()
    lake.sync()
    yield lake
    lake.stop()


def test_table_rows_are_the_samples_in_athena_and_spark(loaded, spark_lake):
    spec, record = loaded
    sql = f"SELECT {', '.join(spec.data_columns)} FROM {spec.database}.{spec.table}"
    athena = {tuple(r[:5]): r[5] for r in local_lake.athena_query(sql)[1:]}
    spark = {tuple(r[:5]): r[5] for r in spark_lake.query(sql)[1:]}
    assert athena == spark == {k: amount for k, (amount, _) in EXPECTED.items()}
    assert record["ingest"]["rows_loaded"] == len(EXPECTED) > 1600


def test_the_malformed_line_is_rejected_with_its_line_number(loaded, deployed_stack: DeployedStack):
    _, record = loaded
    s3 = deployed_stack.client("s3")
    bucket, prefix = split_s3_uri(record["ingest"]["rejects_location"])
    rejects = [json.loads(line) for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
               if obj["Key"].endswith(".json")
               for line in s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode().splitlines() if line]
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert [(r["line"], r["reason"], r["detail"], r["record"]) for r in rejects] == [
        (n, "unparseable", "not a JSON object", lines[n - 1]) for n in MALFORMED]
    assert MALFORMED and record["ingest"]["rejects_by_reason"] == {"unparseable": len(MALFORMED)}


def test_views_agree_in_both_dialects_one_with_1600_keys(loaded, spark_lake, deployed_stack: DeployedStack):
    spec, record = loaded
    fixed = [spec.split_column, *spec.id_columns]
    views = {v["split_value"]: v["view"] for v in record["views"]["views"]}
    assert set(views) == {k[0] for k in EXPECTED}
    glue = deployed_stack.client("glue")
    for split_value, view in views.items():
        items = sorted({k[4] for k in EXPECTED if k[0] == split_value})
        names = column_names(items, fixed)
        pivot: dict[tuple, dict[str, str]] = {}
        for k, (amount, _) in EXPECTED.items():
            if k[0] == split_value:
                pivot.setdefault(k[:4], {})[names[k[4]]] = amount
        athena = local_lake.athena_query(f"SELECT * FROM {view}")
        spark = spark_lake.query(f"SELECT * FROM {view}")
        assert athena[0] == spark[0] and sorted(athena[0][len(fixed):]) == sorted(names.values())
        got = {tuple(r[:len(fixed)]): {c: v for c, v in zip(athena[0][len(fixed):], r[len(fixed):], strict=True)
                                       if v is not None} for r in athena[1:]}
        assert sorted_rows(athena) == sorted_rows(spark) and got == pivot
        db, table = view.split(".")
        reps = glue.get_table(DatabaseName=db, Name=table)["Table"]["ViewDefinition"]["Representations"]
        sizes = {r["Dialect"]: len(r["ViewOriginalText"].encode()) for r in reps}
        print(f"\n[e2e] {view}: {len(athena[0])} columns, view text bytes {sizes}")
        assert max(sizes.values()) <= MAX_VIEW_TEXT  # Glue's limit on a representation's text
    assert max(len({k[4] for k in EXPECTED if k[0] == s}) for s in views) >= 1600


def test_quality_results_are_queryable_in_athena(loaded):
    spec, record = loaded
    no_rssd = sorted(line for k, (_, line) in EXPECTED.items() if k[1] is None)
    negative = sorted(line for amount, line in EXPECTED.values() if amount.lstrip("-").isdigit() and int(amount) < 0)
    rows = local_lake.athena_query(f"SELECT rule, severity, passed, failing_rows, sample_lines "
                                   f"FROM {spec.database}.{spec.table}_quality")
    got = {r[0]: (r[1], r[2], int(r[3]), sorted(set(json.loads(r[4])))) for r in rows[1:]}
    assert got == {"not_null_rssd": ("warn", "false", len(no_rssd), sorted(set(no_rssd))),
                   "amount_min_0": ("warn", "false", len(negative), sorted(set(negative)))}
    assert no_rssd and negative and [q["rule"] for q in record["ingest"]["quality"]] == ["not_null_rssd",
                                                                                        "amount_min_0"]
