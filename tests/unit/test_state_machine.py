"""The state machine template renders to valid ASL JSON whose graph is closed and connected."""

import json
import re
import time
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "state_machines" / "pipeline.asl.json"
VARS = {
    "partition": "aws",
    "ingest_job_name": "lakepipe-ingest",
    "view_job_name": "lakepipe-views",
    "run_recorder_function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:lakepipe-run-recorder",
    "failure_topic_arn": "arn:aws:sns:eu-west-1:123456789012:lakepipe-failures",
}


def render(text: str, variables: dict) -> str:
    """Terraform templatefile() semantics for plain `${name}` interpolations."""
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
    missing = used - set(variables)
    assert not missing, f"template uses undeclared vars {missing}"
    return re.sub(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: variables[m.group(1)], text)


def targets(state: dict) -> list[str]:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [c["Next"] for c in state.get("Catch", [])]
    out += [c["Next"] for c in state.get("Choices", [])]
    return out


@pytest.fixture(scope="module")
def asl():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(VARS), "template vars changed (docs/design.md)"
    rendered = render(text, VARS)
    assert "${" not in rendered
    return json.loads(rendered)


def test_every_target_exists_and_every_state_is_reachable(asl):
    states = asl["States"]
    assert asl["StartAt"] in states
    for name, st in states.items():
        for t in targets(st):
            assert t in states, f"{name} -> {t} does not exist"
        terminal = st["Type"] in ("Succeed", "Fail") or st.get("End") is True
        assert terminal or "Next" in st or st["Type"] == "Choice", f"{name} has no Next/End"
    seen, todo = set(), [asl["StartAt"]]
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(targets(states[s]))
    assert seen == set(states), f"unreachable: {set(states) - seen}"


def test_job_arguments_match_the_contract(asl):
    ingest = asl["States"]["Ingest"]["Parameters"]["Arguments"]
    assert set(ingest) == {"--dataset_spec.$", "--source_uri.$", "--source_version.$", "--source_etag.$",
                           "--source_sequencer.$", "--source_event_time.$", "--run_id.$"}
    # the source's order (lakepipe.ordering) comes from the fields the trigger always puts in $.source
    assert (ingest["--source_sequencer.$"], ingest["--source_event_time.$"]) == ("$.source.sequencer",
                                                                                 "$.source.event_time")
    views = asl["States"]["BuildViews"]["Parameters"]["Arguments"]
    assert set(views) == {"--dataset_spec.$", "--run_id.$"}
    assert asl["States"]["Ingest"]["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    # every job failure ends in the recorder and then the Fail state
    for name in ("Ingest", "BuildViews"):
        assert [c["Next"] for c in asl["States"][name]["Catch"]] == ["RecordFailure"]
    assert asl["States"]["Failed"]["Type"] == "Fail"


def test_a_broken_graph_is_detected(asl):
    """The checks above can fail: a dangling target is caught."""
    broken = json.loads(json.dumps(asl))
    broken["States"]["Ingest"]["Next"] = "Nowhere"
    with pytest.raises(AssertionError, match="Nowhere does not exist"):
        test_every_target_exists_and_every_state_is_reachable(broken)
    orphan = json.loads(json.dumps(asl))
    orphan["States"]["Orphan"] = {"Type": "Pass", "End": True}
    with pytest.raises(AssertionError, match="unreachable"):
        test_every_target_exists_and_every_state_is_reachable(orphan)


def _notifies(states: dict, start: str) -> bool:
    """Does every path from `start` (following Next and Catch) publish to SNS before the execution ends?"""
    st = states[start]
    if st.get("Resource", "").endswith(":states:::sns:publish"):
        return True
    nexts = targets(st)
    return bool(nexts) and all(_notifies(states, n) for n in nexts)


def test_every_failure_after_the_start_is_notified(asl):
    """A Task that fails for any reason (a job, the recorder after a good load) ends up on the SNS topic:
    each non-SNS Task catches States.ALL, and every path from its Catch reaches sns:publish."""
    states = asl["States"]
    for name, st in states.items():
        if st["Type"] != "Task" or st["Resource"].endswith(":states:::sns:publish"):
            continue
        catch_all = [c for c in st.get("Catch", []) if "States.ALL" in c["ErrorEquals"]]
        assert catch_all, f"{name}: a failure here would end the execution without a notification"
        assert _notifies(states, catch_all[0]["Next"]), f"{name}: its Catch does not reach the SNS notification"


def test_an_uncaught_recorder_is_detected(asl):
    broken = json.loads(json.dumps(asl))
    del broken["States"]["RecordSuccess"]["Catch"]
    with pytest.raises(AssertionError, match="RecordSuccess: a failure here"):
        test_every_failure_after_the_start_is_notified(broken)


def _run_prefix(asl: dict, execution_input: dict) -> dict:
    """Run the states before Ingest in moto's ASL engine (what the local endpoint runs) and return the
    input Ingest would receive."""
    import boto3
    from moto import mock_aws
    from moto.core.config import default_user_config

    states = {name: dict(asl["States"][name]) for name in ("SourceOrderDefaults", "WithSourceOrder")}
    states["WithSourceOrder"]["Next"] = "Ingest"
    states["Ingest"] = {"Type": "Pass", "End": True}  # stands in for the Glue task: its input is the output
    definition = {"StartAt": asl["StartAt"], "States": states}
    saved = dict(default_user_config.get("stepfunctions", {}))
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    try:
        with mock_aws():
            sfn = boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="testing",
                               aws_secret_access_key="testing")
            arn = sfn.create_state_machine(name="prefix", definition=json.dumps(definition),
                                           roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
            run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
            for _ in range(200):
                d = sfn.describe_execution(executionArn=run)
                if d["status"] != "RUNNING":
                    break
                time.sleep(0.05)  # poll of a deadline-bounded wait (200 x 50 ms)
            assert d["status"] == "SUCCEEDED", d
            return json.loads(d["output"])
    finally:
        default_user_config["stepfunctions"] = saved


def test_an_input_without_the_source_order_runs_unordered_instead_of_failing(asl):
    source = {"bucket": "raw", "key": "incoming/entities/a.csv", "version": "v1", "etag": "e", "size": 1}
    out = _run_prefix(asl, {"dataset": {"name": "entities"}, "source": source})
    assert out == {"dataset": {"name": "entities"}, "source": {**source, "sequencer": "", "event_time": ""}}
    ordered = {**source, "sequencer": "0A", "event_time": "2026-11-30T12:00:00.000Z"}
    assert _run_prefix(asl, {"dataset": {"name": "entities"}, "source": ordered})["source"] == ordered


def test_glue_capacity_retries_outlast_a_burst():
    """A burst of uploads (hundreds of filings at period end) waits for Glue capacity instead of failing:
    each Glue task retries ConcurrentRunsExceeded for hours in expectation (full jitter halves the waits),
    while one wait stays short enough that a freed slot is taken within two minutes."""
    definition = json.loads(TEMPLATE.read_text())
    for name in ("Ingest", "BuildViews"):
        retry = next(r for r in definition["States"][name]["Retry"]
                     if "Glue.ConcurrentRunsExceededException" in r["ErrorEquals"])
        waits = [min(retry["MaxDelaySeconds"], retry["IntervalSeconds"] * retry["BackoffRate"] ** i)
                 for i in range(retry["MaxAttempts"])]
        assert retry["JitterStrategy"] == "FULL" and retry["MaxDelaySeconds"] <= 120, name
        assert sum(waits) / 2 >= 3600, f"{name}: expected capacity wait {sum(waits) / 2:.0f} s"
