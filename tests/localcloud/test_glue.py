"""Glue job runs go through the runner (a fake one here): states, merged arguments, errors, UpdateJob."""

from __future__ import annotations

import json

import pytest

from .conftest import create_role, start_endpoint, wait_for

pytestmark = pytest.mark.localcloud


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    ep, stop = start_endpoint(tmp_path_factory.mktemp("glue"),
                              {"LOCALCLOUD_GLUE_RUNNER": "fake_glue_runner:run_glue_script"})
    yield ep
    stop()


def _job(ep, name, **kw):
    glue = ep.client("glue")
    glue.create_job(Name=name, Role=create_role(ep), Command={"Name": "glueetl", "ScriptLocation": "s3://b/s.py"},
                    GlueVersion="5.0", **kw)
    return glue


def _final(glue, name, run_id, timeout=30):
    def done():
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        return run if run["JobRunState"] not in ("STARTING", "RUNNING", "WAITING") else None
    return wait_for(done, timeout, f"job run {run_id} to finish")


def test_run_merges_arguments_and_reports_states(ep):
    glue = _job(ep, "ok-job", DefaultArguments={"--a": "default", "--b": "default", "--fake_sleep": "1"})
    run_id = glue.start_job_run(JobName="ok-job", Arguments={"--b": "run"})["JobRunId"]
    first = glue.get_job_run(JobName="ok-job", RunId=run_id)["JobRun"]
    assert first["JobRunState"] in ("STARTING", "RUNNING")
    assert "CompletedOn" not in first
    run = _final(glue, "ok-job", run_id)
    assert run["JobRunState"] == "SUCCEEDED"
    assert "ErrorMessage" not in run
    assert run["CompletedOn"] >= run["StartedOn"]
    assert run["ExecutionTime"] >= 1
    calls = [json.loads(line) for line in (ep.home / "state" / "glue" / "fake_calls.jsonl").read_text().splitlines()]
    assert calls[-1]["arguments"] == {"--a": "default", "--b": "run", "--fake_sleep": "1"}
    assert calls[-1]["script_location"] == "s3://b/s.py"
    assert calls[-1]["endpoint_url"] == ep.url
    assert calls[-1]["timeout_s"] == 2880 * 60


def test_failed_run_carries_the_error_message(ep):
    glue = _job(ep, "bad-job", Timeout=5)
    run_id = glue.start_job_run(JobName="bad-job", Arguments={"--fake_outcome": "fail:ValueError: no such column x"})[
        "JobRunId"]
    run = _final(glue, "bad-job", run_id)
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: no such column x"
    runs = glue.get_job_runs(JobName="bad-job")["JobRuns"]
    assert [r["JobRunState"] for r in runs] == ["FAILED"]
    assert json.loads((ep.home / "state" / "glue" / "fake_calls.jsonl").read_text().splitlines()[-1])[
        "timeout_s"] == 300


def test_max_concurrent_runs(ep):
    glue = _job(ep, "slow-job", DefaultArguments={"--fake_sleep": "2"})
    run_id = glue.start_job_run(JobName="slow-job")["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName="slow-job")
    assert _final(glue, "slow-job", run_id)["JobRunState"] == "SUCCEEDED"
    glue.start_job_run(JobName="slow-job")  # capacity is back


def test_get_job_omits_unset_execution_class_and_update_job_works(ep):
    glue = _job(ep, "tf-job", DefaultArguments={"--x": "1"})
    assert "ExecutionClass" not in glue.get_job(JobName="tf-job")["Job"]
    glue.update_job(JobName="tf-job", JobUpdate={
        "Role": create_role(ep), "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/t.py"},
        "DefaultArguments": {"--y": "2"}, "ExecutionClass": "FLEX", "GlueVersion": "5.0"})
    job = glue.get_job(JobName="tf-job")["Job"]
    assert job["DefaultArguments"] == {"--y": "2"}
    assert job["Command"]["ScriptLocation"] == "s3://b/t.py"
    assert job["ExecutionClass"] == "FLEX"


def test_update_table_with_a_stale_version_id_is_refused(ep):
    """AWS UpdateTable: VersionId = "the version ID at which to update the table contents"; a writer that read
    an older version loses (ConcurrentModificationException) and the table keeps the winner's content."""
    glue = ep.client("glue")
    glue.create_database(DatabaseInput={"Name": "versions_db"})
    glue.create_table(DatabaseName="versions_db", TableInput={"Name": "t", "Parameters": {"v": "0"}})
    read = glue.get_table(DatabaseName="versions_db", Name="t")["Table"]["VersionId"]
    glue.update_table(DatabaseName="versions_db", TableInput={"Name": "t", "Parameters": {"v": "a"}}, VersionId=read)
    with pytest.raises(glue.exceptions.ConcurrentModificationException, match="not the current version"):
        glue.update_table(DatabaseName="versions_db", TableInput={"Name": "t", "Parameters": {"v": "b"}},
                          VersionId=read)
    table = glue.get_table(DatabaseName="versions_db", Name="t")["Table"]
    assert table["Parameters"] == {"v": "a"} and table["VersionId"] != read
    # Without VersionId an update is unconditional, as on AWS.
    glue.update_table(DatabaseName="versions_db", TableInput={"Name": "t", "Parameters": {"v": "c"}})
    assert glue.get_table(DatabaseName="versions_db", Name="t")["Table"]["Parameters"] == {"v": "c"}
