"""The cost model (tools/cost_model.py, `make cost`): every line hand-computed for a small profile, state
transitions counted from the ASL, settings read from the committed plans, the prices file's schema, the
bundled profiles' output and the README tables that show it."""

import copy
import dataclasses
import datetime
import json
import re
import subprocess
from pathlib import Path

import pytest

from tools import cost_model as cm

REPO = Path(__file__).resolve().parents[2]
PRICES = json.loads((REPO / "cost" / "prices.json").read_text(encoding="utf-8"))
THROUGHPUT = json.loads((REPO / "cost" / "throughput.json").read_text(encoding="utf-8"))
BUNDLED = ("usage-profile", "regulatory-period-end")
GIB, MIB = 1024**3, 1024**2


def small_inputs():
    deployment = cm.Deployment(
        environment="test",
        region="eu-west-1",
        ingest=cm.GlueJob("G.1X", 3),
        views=cm.GlueJob("G.1X", 2),
        max_concurrent_runs=2,
        trigger_memory_mb=512,
        recorder_memory_mb=1024,
        log_retention_days={"glue": 30, "lambda": 60, "states": 90},
        raw_retention_days=60,
        warehouse_noncurrent_days=3,
        athena_results_days=7,
        s3tables_history_days=13,
        alarm_metrics=4,
        dashboards=1,
        kms_keys=1,
        tracing=True,
        source="test",
    )
    unit_prices = {
        "glue_dpu_hour": 0.5,
        "glue_catalog_request": 1e-6,
        "lambda_request": 2e-7,
        "lambda_gb_second_x86": 1e-5,
        "sfn_state_transition": 2.5e-5,
        "s3_standard_gb_month": 0.02,
        "s3_put_request": 5e-6,
        "s3_get_request": 4e-7,
        "s3tables_gb_month": 0.03,
        "s3tables_put_request": 6e-6,
        "s3tables_get_request": 5e-7,
        "s3tables_object_monitoring": 2.5e-5,
        "s3tables_compaction_object": 2e-6,
        "s3tables_compaction_gb": 0.005,
        "athena_tb_scanned": 5.0,
        "kms_key_month": 1.0,
        "kms_request": 3e-6,
        "cloudwatch_alarm_month": 0.1,
        "cloudwatch_dashboard_month": 3.0,
        "cloudwatch_metric_month": 0.3,
        "cloudwatch_put_metric_request": 1e-5,
        "cloudwatch_logs_ingest_gb": 0.5,
        "cloudwatch_logs_storage_gb_month": 0.03,
        "xray_trace": 5e-6,
    }
    prices = {
        "region": "eu-west-1",
        "prices": {k: {"price": v, "confirmed": True} for k, v in unit_prices.items()},
        "glue_worker_types": {"G.1X": {"dpu": 1, "vcpu": 4}},
        "glue_minimum_billed_seconds": {"seconds": 60},
    }
    throughput = {
        "source_short": "test",
        "spark_task_slots": 2,
        "spark_session_start_s": 5,
        "ingest": {"c": [{"rows_read": 1000, "body_s": 10}, {"rows_read": 11000, "body_s": 30}]},
        "views": {"first_run_s": 2, "views": 10},
        "csv_bytes_per_line": 100,
        "parquet_bytes_per_row": 1024,
    }
    profile = {
        "name": "small",
        "environment": "test",
        "files_per_day": 2,
        "period_end_files": 4,
        "rows_per_file": 120000,
        "datasets": 2,
        "s3tables_datasets": 1,
        "split_values_per_dataset": 10,
        "split_values_per_file": 5,
        "table_rows_per_dataset": 1048576,
        "queries_per_day": 10,
        "bytes_scanned_per_query": 5_000_000,
        "snapshot_retention_days": 4,
        "failed_run_share": 0.25,
        "ingest_case": "c",
        "assumptions": {
            "glue_start_overhead_s": 10,
            "maintenance_run_s": 100,
            "trigger_duration_ms": 100,
            "recorder_duration_ms": 200,
            "catalog_requests_per_run": 10,
            "catalog_requests_per_query": 2,
            "s3_put_per_run": 5,
            "s3_put_per_split_value": 1,
            "s3_get_per_run": 6,
            "s3_get_per_split_value": 2,
            "s3_put_per_query": 1,
            "s3_get_per_query": 4,
            "result_bytes_per_query": MIB,
            "kms_requests_per_run": 10,
            "kms_requests_per_query": 1,
            "traces_per_file": 2,
            "log_bytes": {
                "glue_ingest_run": MIB,
                "glue_view_run": MIB // 2,
                "lambda_invocation": 1024,
                "states_failed_execution": 2048,
            },
        },
    }
    return profile, deployment, prices, throughput


def test_every_line_of_a_small_profile_matches_the_hand_computation():
    profile, deployment, prices, throughput = small_inputs()
    est = cm.estimate(profile, deployment, prices, throughput, cm.load_asl(), (3, 2))
    # 2 files a day for 30 days + 4 period-end files = 64 executions; a quarter fail in the ingest job.
    files, failed, succeeded, queries = 64, 16, 48, 300
    # Ingest: 10 s start + 5 s session + 8 s fixed (the line through (1000, 10 s) and (11000, 30 s):
    # 2 ms/line) + 2 ms x 120,000 lines x 2 bench slots / 8 Glue slots (G.1X x 3: 2 executors x 4 vCPU)
    # = 83 s, 3 DPU.
    ingest_dpu_h = files * 83 / 3600 * 3
    # Views: 10 + 5 + 2 s x 10/10 views = 17 s -> billed 60 s, 2 DPU, successful executions only.
    views_dpu_h = succeeded * 60 / 3600 * 2
    # Transitions: 5 per success, 6 per failed ingest; the 4 period-end files at 2 concurrent runs: the last
    # two wait one 83 s run; the retrier's expected waits (half of 10, 20, 40, 80 s, then 60 s) add
    # 5+10+20+40 = 75 s in 4 retries, the remaining 8 s is 8/60 of a fifth: 4.1333 retries each.
    transitions = succeeded * 5 + failed * 6 + 2 * (4 + 8 / 60)
    runs_per_day_per_dataset = files / 30 / 2
    table_gib = 1048576 * 1024 / GIB  # 1 GiB; each run rewrites 5 of 10 partitions: half
    expected = {
        ("Glue", "ingest job"): ingest_dpu_h * 0.5,
        ("Glue", "view job"): views_dpu_h * 0.5,
        ("Glue", "Data Catalog requests"): (files * 10 + queries * 2) * 1e-6,
        ("Lambda", "trigger requests"): files * 2e-7,
        ("Lambda", "trigger duration (512 MB)"): files * 0.1 * 0.5 * 1e-5,
        ("Lambda", "run recorder requests"): files * 2e-7,
        ("Lambda", "run recorder duration (1024 MB)"): files * 0.2 * 1.0 * 1e-5,
        ("Step Functions", "state transitions"): transitions * 2.5e-5,
        ("S3", "raw CSV files (60 days)"): files / 30 * 60 * 120000 * 100 / GIB * 0.02,
        ("S3", "Glue-target tables + 7 days of history"): (table_gib + runs_per_day_per_dataset * 7 * 0.5)
        * 0.02,
        ("S3", "Athena results (7 days)"): 10 * 7 * MIB / GIB * 0.02,
        # Runs: 5 PUTs + 1 per touched partition for the half of the runs that load Glue-target tables.
        ("S3", "PUT/COPY/LIST requests"): (files * (5 + 0.5 * 1 * 5) + queries * 1) * 5e-6,
        ("S3", "GET requests"): (files * (6 + 0.5 * 2 * 5) + queries * 4) * 4e-7,
        ("S3 Tables", "tables + 17 days of history"): (table_gib + runs_per_day_per_dataset * 17 * 0.5)
        * 0.03,
        ("S3 Tables", "PUT requests"): 32 * 5 * 6e-6,
        ("S3 Tables", "GET requests"): 32 * 10 * 5e-7,
        ("S3 Tables", "object monitoring"): 10 * 2.5e-5,  # 10 partitions of 0.1 GiB: one file each
        ("S3 Tables", "compaction, objects"): 32 * 5 * 2e-6,
        ("S3 Tables", "compaction, data"): 32 * 0.5 * 0.005,
        ("Athena", "data scanned"): queries * 10 / (1024 * 1024) * 5.0,  # 5 MB is billed as the 10 MB minimum
        ("KMS", "customer managed keys"): 1.0,
        ("KMS", "requests"): (files * 10 + queries * 1) * 3e-6,
        ("CloudWatch", "alarms"): 4 * 0.1,
        ("CloudWatch", "dashboards"): 3.0,
        ("CloudWatch", "custom metrics"): 2 * 3 * 0.3,  # 3 per dataset
        ("CloudWatch", "PutMetricData requests"): succeeded * 2 * 1e-5,  # 2 calls per successful execution
        ("CloudWatch", "logs ingested"): (
            (files * 1 + succeeded * 0.5) / 1024 + 2 * files / MIB + failed * 2 / MIB
        )
        * 0.5,
        ("CloudWatch", "logs stored (glue 30 d, lambda 60 d, states 90 d)"): (
            (files * 1 + succeeded * 0.5) / 1024 * 1 + 2 * files / MIB * 2 + failed * 2 / MIB * 3
        )
        * 0.03,
        ("X-Ray", "traces"): files * 2 * 5e-6,
    }
    got = {(line.group, line.item): line.usd for line in est.lines}
    assert got.keys() == expected.keys()
    for key, usd in expected.items():
        assert got[key] == pytest.approx(usd, rel=1e-9), key
    assert est.total == pytest.approx(sum(expected.values()), rel=1e-9)
    assert not est.warnings


def test_a_burst_beyond_the_retry_window_is_reported():
    profile, deployment, prices, throughput = small_inputs()
    profile["period_end_files"] = 2000  # 1000 rounds of 83 s at 2 concurrent runs: far past 80 retries
    est = cm.estimate(profile, deployment, prices, throughput, cm.load_asl(), (3, 2))
    assert len(est.warnings) == 1 and "more than MaxAttempts 80" in est.warnings[0]


MAP_ASL = {  # the shape of a scheduled maintenance: one Map over the datasets, then a Choice
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Job",
                "States": {"Job": {"Type": "Task", "Next": "Ok"}, "Ok": {"Type": "Pass", "End": True}},
            },
            "Next": "Outcome",
        },
        "Outcome": {"Type": "Choice", "Choices": [{"Next": "Failed"}], "Default": "Done"},
        "Failed": {"Type": "Fail"},
        "Done": {"Type": "Succeed"},
    },
}


def test_scheduled_maintenance_is_priced_when_the_plan_has_it():
    profile, deployment, prices, throughput = small_inputs()
    with_maintenance = dataclasses.replace(deployment, maintenance=cm.Maintenance(cm.GlueJob("G.1X", 2), 30))
    base = cm.estimate(profile, deployment, prices, throughput, cm.load_asl(), (3, 2))
    est = cm.estimate(profile, with_maintenance, prices, throughput, cm.load_asl(), (3, 2), MAP_ASL)
    got = {(line.group, line.item): line.usd for line in est.lines}
    # 30 runs x 2 datasets, each 10 s start + 5 s session + 100 s work = 115 s on 2 DPU
    assert got[("Glue", "maintenance job")] == pytest.approx(30 * 2 * 115 / 3600 * 2 * 0.5)
    # Map (1) + 2 datasets x (Job, Ok) + Outcome + Done = 7 transitions per scheduled run
    sfn = ("Step Functions", "state transitions")
    assert got[sfn] - {(x.group, x.item): x.usd for x in base.lines}[sfn] == pytest.approx(30 * 7 * 2.5e-5)
    assert est.total - base.total == pytest.approx(30 * 2 * 115 / 3600 * 2 * 0.5 + 30 * 7 * 2.5e-5)


def test_the_maintenance_resources_are_read_from_the_plan():
    plan = json.loads((REPO / "terraform" / "plan-snapshots" / "prod.json").read_text(encoding="utf-8"))
    ingest = next(a for a in plan if a.endswith("aws_glue_job.ingest"))
    job = copy.deepcopy(plan[ingest])
    job["values"].update(worker_type="G.1X", number_of_workers=3)
    plan["module.stack.module.maintenance.aws_glue_job.maintenance"] = job
    plan["module.stack.module.maintenance.aws_scheduler_schedule.maintenance"] = {
        "actions": ["create"],
        "values": {"schedule_expression": "cron(0 3 * * ? *)", "state": "ENABLED"},
    }
    plan["module.stack.module.maintenance.aws_sfn_state_machine.maintenance"] = {
        "actions": ["create"],
        "values": {"tracing_configuration": []},
    }
    deployment = cm.deployment_from_plan("prod", plan)
    assert deployment.maintenance == cm.Maintenance(cm.GlueJob("G.1X", 3), 30)
    assert deployment.unpriced == ()
    plan["module.stack.module.maintenance.aws_scheduler_schedule.maintenance"]["values"]["state"] = "DISABLED"
    assert cm.deployment_from_plan("prod", plan).maintenance.runs_per_month == 0


def test_schedule_expressions_are_counted_or_refused():
    assert cm.runs_per_month("cron(0 3 * * ? *)") == 30
    assert cm.runs_per_month("cron(0,30 3,15 * * ? *)") == 4 * 30
    assert cm.runs_per_month("rate(6 hours)") == 4 * 30
    assert cm.runs_per_month("rate(1 day)") == 30
    with pytest.raises(ValueError, match="counts rate"):
        cm.runs_per_month("cron(0 3 ? * MON *)")


def test_transitions_are_counted_from_the_asl():
    asl = cm.load_asl()
    assert cm.transitions_per_run(asl) == {"success": 5, "ingest_failed": 6}
    # One more state on the way in is one more transition on both paths: the counts come from the file.
    longer = copy.deepcopy(asl)
    longer["States"]["Extra"] = {"Type": "Pass", "Next": longer["StartAt"]}
    longer["StartAt"] = "Extra"
    assert cm.transitions_per_run(longer) == {"success": 6, "ingest_failed": 7}
    task, retrier = cm.first_task_with_retry(asl)
    assert task == "Ingest" and retrier["MaxAttempts"] == 80
    assert cm.success_transitions(asl["States"], asl["StartAt"], items=3) == 5  # no Map: items do not count
    assert cm.success_transitions(MAP_ASL["States"], MAP_ASL["StartAt"], items=3) == 1 + 3 * 2 + 2


def test_expected_capacity_retries_follow_the_retrier():
    _, retrier = cm.first_task_with_retry(cm.load_asl())  # 10 s x 2 up to 120 s, full jitter: halves
    assert cm.expected_retries(0, retrier) == 0
    assert cm.expected_retries(5, retrier) == pytest.approx(1)
    assert cm.expected_retries(75, retrier) == pytest.approx(4)
    assert cm.expected_retries(75 + 60 * 100, retrier) == pytest.approx(104)


def test_settings_are_read_from_the_plans_and_agree_with_terraform():
    variables = (REPO / "terraform" / "modules" / "glue_jobs" / "variables.tf").read_text(encoding="utf-8")

    def default(name):
        return re.search(rf'variable "{name}" {{.*?default\s*=\s*"?([\w.-]+)"?', variables, re.DOTALL).group(
            1
        )

    dev = cm.deployment_from_plan("dev")
    # dev keeps the module's defaults (its main.tf says so)
    assert dev.ingest == cm.GlueJob(default("worker_type"), int(default("number_of_workers")))
    assert dev.views == cm.GlueJob(default("view_worker_type"), int(default("view_number_of_workers")))
    assert dev.max_concurrent_runs == int(default("max_concurrent_runs"))
    prod_tf = (REPO / "terraform" / "environments" / "prod" / "main.tf").read_text(encoding="utf-8")

    def setting(name):
        return re.search(rf'^\s*{name}\s*=\s*"?([\w.-]+)"?', prod_tf, re.MULTILINE).group(1)

    prod = cm.deployment_from_plan("prod")
    # prod keeps the module's Glue workers too (sized from the measured throughput; its main.tf says so)
    assert not re.search(r"^\s*(worker_type|number_of_workers)\s*=", prod_tf, re.MULTILINE)
    assert prod.ingest == dev.ingest
    assert prod.max_concurrent_runs == int(setting("max_concurrent_runs"))
    assert set(prod.log_retention_days.values()) == {int(setting("log_retention_days"))}
    assert prod.raw_retention_days == int(setting("raw_retention_days"))
    assert prod.region == setting("region") == PRICES["region"]
    assert prod.kms_keys == 1 and prod.tracing and prod.alarm_metrics >= 3


def test_resources_billed_per_use_that_the_model_does_not_price_are_named():
    assert cm.deployment_from_plan("prod").unpriced == ()
    plan = json.loads((REPO / "terraform" / "plan-snapshots" / "dev.json").read_text(encoding="utf-8"))
    trigger = next(a for a in plan if a.endswith("module.trigger.module.function.aws_lambda_function.this"))
    plan["module.stack.module.other.aws_lambda_function.this"] = plan[trigger]
    ingest = next(a for a in plan if a.endswith("aws_glue_job.ingest"))
    plan[ingest.replace(".ingest", ".compaction")] = plan[ingest]
    deployment = cm.deployment_from_plan("dev", plan)
    assert deployment.unpriced == (
        "module.stack.module.glue_jobs.aws_glue_job.compaction",
        "module.stack.module.other.aws_lambda_function.this",
    )
    profile = json.loads((REPO / "cost" / "usage-profile.json").read_text(encoding="utf-8"))
    est = cm.estimate(profile, deployment, PRICES, THROUGHPUT, cm.load_asl(), cm.job_metrics())
    assert [w for w in est.warnings if w.startswith("not priced")] == [
        f"not priced: {a}" for a in deployment.unpriced
    ]


def test_the_jobs_custom_metrics_are_counted_from_what_they_put():
    per_dataset, calls = cm.job_metrics()
    from lakepipe import metrics

    # the rows read, loaded and rejected are among them; the ingest run and the view run put once each
    assert per_dataset >= len(metrics.INGEST_COUNTS) + 1 and calls == 2


def test_the_glue_fit_goes_through_the_measured_points():
    for case, points in THROUGHPUT["ingest"].items():
        fixed, per_line = cm.ingest_fit(THROUGHPUT, case)
        assert fixed > 0 and per_line > 0, case
        for p in points:
            assert fixed + per_line * p["rows_read"] == pytest.approx(p["body_s"]), case
    assert cm.glue_slots(cm.GlueJob("G.2X", 10), PRICES["glue_worker_types"]) == 72


def test_prices_file_schema():
    assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", PRICES["region"])
    for key, entry in PRICES["prices"].items():
        assert set(entry) == {"price", "unit", "region", "read_on", "confirmed", "source", "note"}, key
        assert isinstance(entry["price"], int | float) and entry["price"] > 0, key
        assert entry["source"].startswith("https://") and entry["unit"] and entry["region"], key
        assert datetime.date.fromisoformat(entry["read_on"]) <= datetime.date.today(), key
        assert isinstance(entry["confirmed"], bool), key
        assert entry["confirmed"] or len(entry["note"]) > 20, f"{key}: an unconfirmed price says why"
    for env in ("dev", "prod"):
        d = cm.deployment_from_plan(env)
        assert {d.ingest.worker_type, d.views.worker_type} <= set(PRICES["glue_worker_types"])
    # Every price is used by some profile and every line has a price: none is stale, none missing.
    used = set()
    for name in BUNDLED:
        bundled = json.loads((REPO / "cost" / f"{name}.json").read_text(encoding="utf-8"))
        # dev has the S3 table bucket (prod creates it only for a dataset of target s3tables)
        for variant, env in ((bundled, bundled["environment"]), ({**bundled, "s3tables_datasets": 1}, "dev")):
            est = cm.estimate(
                variant, cm.deployment_from_plan(env), PRICES, THROUGHPUT, cm.load_asl(), cm.job_metrics()
            )
            used |= {line.price_key for line in est.lines}
    assert used == set(PRICES["prices"])


def test_make_cost_prints_the_bundled_profile_and_the_readme_shows_it():
    out = subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(REPO), "cost"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [r for r in out.splitlines() if r.startswith("| ") and not r.startswith(("| service", "| ---"))]
    usd = [float(r.rsplit("|", 2)[1].strip().replace(",", "")) for r in rows if not r.startswith("| **total")]
    total = float(re.search(r"\*\*total\*\*.*\*\*([\d,.]+)\*\*", out).group(1).replace(",", ""))
    assert len(usd) >= 20 and total == pytest.approx(sum(usd), abs=0.01 * len(usd))
    assert "settings from terraform/plan-snapshots/prod.json" in out
    # A resource the model does not price is named (README too); any other warning is a failure.
    assert all(w.startswith("WARNING: not priced: ") for w in out.splitlines() if "WARNING" in w), out
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in BUNDLED:
        est, _ = cm.run(REPO / "cost" / f"{name}.json")
        start, end = cm.README_MARKERS[name]
        block = re.search(re.escape(start) + r"\n(.*?)\n" + re.escape(end), readme, re.DOTALL)
        assert block, f"README.md has no {start} block"
        assert block.group(1) == cm.readme_block(est), (
            f"README's {name} table is stale: run .venv/bin/python tools/cost_model.py --write-readme"
        )
