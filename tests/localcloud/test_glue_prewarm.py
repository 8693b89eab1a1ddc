"""When the endpoint pre-warms Glue drivers for a job (localcloud/executors/glue_exec.prewarm, called by CreateJob
and UpdateJob): which arguments it builds them for, and LOCALCLOUD_GLUE_PREWARM / LOCALCLOUD_GLUE_WARM turning it
off. The drivers themselves: tests/localcloud/test_glue_pool.py."""

from __future__ import annotations

import dataclasses
import importlib
from types import SimpleNamespace

import pytest

from localcloud import config
from localcloud.executors import glue_exec

THIS_MODULE = __name__
CALLS: list[dict] = []


def run_glue_script(*args, **kwargs):  # the runner of LOCALCLOUD_GLUE_RUNNER=<this module>; never run here
    raise AssertionError("no run is started by pre-warming")


def prewarm_job(script_location, arguments, **kwargs):
    CALLS.append({"script_location": script_location, "arguments": arguments, **kwargs})


JOB = SimpleNamespace(name="ingest", backend=SimpleNamespace(region_name="eu-west-1"),
                      command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/ingest.py"},
                      default_arguments={"--conf": "spark.sql.shuffle.partitions=8", "--source": "default"},
                      non_overridable_arguments={"--source": "fixed"})


@pytest.fixture
def settings(monkeypatch):
    saved = config.current()
    CALLS.clear()

    def use(**env):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("LOCALCLOUD_GLUE_RUNNER", f"{THIS_MODULE}:run_glue_script")
        config.set_current(config.load())
        return config.current()

    yield use
    config.set_current(saved)


def test_a_job_is_prewarmed_with_its_default_and_non_overridable_arguments(settings):
    s = settings(LOCALCLOUD_GLUE_WORKERS="3")
    assert s.glue_prewarm and s.glue_warm
    thread = glue_exec.prewarm(JOB)
    assert thread is not None
    thread.join(30)
    assert CALLS == [{"script_location": "s3://artifacts/ingest.py", "arguments": {"--conf": "spark.sql.shuffle.partitions=8", "--source": "fixed"},
                      "endpoint_url": s.endpoint_url, "state_dir": s.state_dir / "glue", "region": "eu-west-1",
                      "count": 3}]


@pytest.mark.parametrize("env", [{"LOCALCLOUD_GLUE_PREWARM": "0"}, {"LOCALCLOUD_GLUE_PREWARM": "off"},
                                 {"LOCALCLOUD_GLUE_WARM": "off"}])
def test_prewarming_off_starts_nothing(settings, env):
    s = settings(**env)
    assert not (s.glue_prewarm and s.glue_warm)
    assert glue_exec.prewarm(JOB) is None
    assert CALLS == []


def test_a_runner_without_prewarm_job_is_not_prewarmed(settings):
    settings()
    runner = "tests.localcloud.helpers.fake_glue_runner:run_glue_script"
    assert importlib.import_module(runner.partition(":")[0]).run_glue_script  # importable, no prewarm_job
    config.set_current(dataclasses.replace(config.current(), glue_runner=runner))
    assert glue_exec.prewarm(JOB) is None
    assert CALLS == []


def test_the_setting_is_on_or_off(monkeypatch):
    monkeypatch.setenv("LOCALCLOUD_GLUE_PREWARM", "sometimes")
    with pytest.raises(ValueError, match="LOCALCLOUD_GLUE_PREWARM must be on or off"):
        config.load()


def test_a_job_whose_script_is_not_there_is_not_prewarmed(tmp_path):
    """Such a job cannot run yet (Terraform uploads a job's script before creating it): no JVM is spent on it.
    The positive case, a job whose script is in S3: test_glue_pool.py, the endpoint pre-warms on CreateJob."""
    from localcloud.glue import pool, runner

    before = pool._shared
    assert runner.prewarm_job(str(tmp_path / "missing.py"), {}, endpoint_url="http://127.0.0.1:1",
                              state_dir=tmp_path) is None
    assert pool._shared is before  # not even the pool was created
