"""End-to-end fixtures: the real stack (terraform/environments/local) applied into a private endpoint.

`deployed_stack` (session scope) starts its own localcloud endpoint on a free port with its own
LOCALCLOUD_DIR under pytest's tmp dir, builds the Lambda/Glue packages from the working tree into that
tmp dir, and applies terraform/environments/local into the endpoint with the state and data dir in tmp
(the user's .localcloud/ and build/ are never touched). It yields a `DeployedStack`; at the end of the
session the endpoint is stopped and no process it started may be left.

Needs terraform (>= 1.11) and the project's provider mirror (tools/terraform/write-cli-config.sh), the
venv (AWS CLI at .venv/bin/aws) and the Spark runtime for the Glue jobs (make spark-runtime).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from localcloud.net import free_port
from localcloud.processes import group_members
from tests.support import wait_for  # noqa: F401 - the suite's tests import it from here

REPO = Path(__file__).resolve().parents[2]
LOCAL_ROOT = REPO / "terraform" / "environments" / "local"
REGION = "us-east-1"  # terraform/environments/local/terraform.tfvars
AWS_CLI = REPO / ".venv" / "bin" / "aws"
E2E_DATASETS = REPO / "tests" / "e2e" / "datasets"


@dataclass
class DeployedStack:
    """The applied stack. `env` is a full environment for AWS CLI / SDK subprocesses (endpoint + fake creds)."""

    endpoint_url: str
    outputs: dict[str, Any]
    env: dict[str, str]
    home: Path  # the endpoint's LOCALCLOUD_DIR
    tf_env: dict[str, str]
    tf_vars: list[str]
    timings: dict[str, float] = field(default_factory=dict)

    def client(self, service: str):
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.endpoint_url, aws_access_key_id="test",
            aws_secret_access_key="test", config=Config(retries={"max_attempts": 2}, read_timeout=120),
        )

    def aws(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the AWS CLI (.venv/bin/aws) against the endpoint; JSON output."""
        proc = subprocess.run([str(AWS_CLI), *args, "--output", "json"], env=self.env, capture_output=True,
                              text=True, check=False, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def terraform(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run terraform in environments/local with this deployment's state, data dir and variables."""
        proc = subprocess.run(["terraform", f"-chdir={LOCAL_ROOT}", *args], env=self.tf_env, capture_output=True,
                              text=True, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n"
                                 f"{proc.stderr[-6000:]}")
        return proc

    def plan_exit_code(self) -> tuple[int, str]:
        """`terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes, 1 = error."""
        proc = self.terraform("plan", "-input=false", "-no-color", "-detailed-exitcode", *self.tf_vars, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def endpoint_log(self, lines: int = 200) -> str:
        try:
            return "\n".join((self.home / "endpoint.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no endpoint log)"


def _cli_config(tmp: Path) -> Path:
    cfg = REPO / ".cache" / "terraform" / "cli.tfrc"
    if cfg.is_file():
        return cfg
    out = tmp / "cli.tfrc"
    subprocess.run([str(REPO / "tools" / "terraform" / "write-cli-config.sh"), str(out)], check=True,
                   capture_output=True, text=True)
    return out


@pytest.fixture(scope="session")
def deployed_stack(tmp_path_factory) -> Iterator[DeployedStack]:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH")
    if not AWS_CLI.exists():
        pytest.fail(f"{AWS_CLI} missing: run `make venv`")
    tmp = tmp_path_factory.mktemp("e2e")
    timings: dict[str, float] = {}

    # Packages from the working tree, into tmp (never the shared build/).
    t0 = time.monotonic()
    build = tmp / "build"
    subprocess.run([sys.executable, "-m", "lakepipe.packaging", "--build", str(build)], cwd=REPO, check=True,
                   capture_output=True, text=True)
    timings["package_s"] = time.monotonic() - t0

    # A private endpoint.
    port = free_port()
    home = tmp / "localcloud"
    lc_env = dict(os.environ, LOCALCLOUD_PORT=str(port), LOCALCLOUD_DIR=str(home))
    up = subprocess.run([sys.executable, "-m", "localcloud", "up", "--deadline", "60"], env=lc_env, cwd=REPO,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stdout + up.stderr
    pid = int((home / "pid").read_text())
    url = f"http://127.0.0.1:{port}"

    clean_env = {k: v for k, v in os.environ.items()
                 if not k.startswith("AWS_") and k not in ("TF_CLI_CONFIG_FILE", "TF_DATA_DIR", "TF_WORKSPACE")}
    cli_env = dict(clean_env, AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")
    tf_env = dict(clean_env, TF_CLI_CONFIG_FILE=str(_cli_config(tmp)), TF_DATA_DIR=str(tmp / "tf-data"),
                  TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", AWS_CONFIG_FILE="/dev/null",
                  AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true")
    tf_vars = [f"-var=endpoint={url}", f"-var=lambda_zip_path={build / 'lambda' / 'lakepipe_lambda.zip'}",
               f"-var=glue_package_path={build / 'glue' / 'lakepipe.zip'}",
               # test-only datasets next to datasets/: entities_s3t exercises target s3tables
               f"-var=extra_datasets_dir={E2E_DATASETS}"]
    stack = DeployedStack(url, {}, cli_env, home, tf_env, tf_vars, timings)

    try:
        t0 = time.monotonic()
        stack.terraform("init", "-input=false", "-no-color", "-reconfigure",
                        f"-backend-config=path={tmp / 'terraform.tfstate'}")
        timings["init_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        apply = stack.terraform("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=32", *tf_vars)
        timings["apply_s"] = time.monotonic() - t0
        (tmp / "apply.log").write_text(apply.stdout)
        summary = [line for line in apply.stdout.splitlines() if line.startswith("Apply complete!")]
        timings["resources_added"] = float(summary[0].split("Resources: ")[1].split(" added")[0]) if summary else -1
        out = stack.terraform("output", "-json")
        stack.outputs = {k: v["value"] for k, v in json.loads(out.stdout).items()}
        print(f"\n[e2e] stack applied into {url}: {summary[0] if summary else '?'} in {timings['apply_s']:.1f}s "
              f"(init {timings['init_s']:.1f}s, package {timings['package_s']:.1f}s)")
        yield stack
    finally:
        down = subprocess.run([sys.executable, "-m", "localcloud", "down"], env=lc_env, cwd=REPO,
                              capture_output=True, text=True, check=False)
        left = group_members(pid)
        assert down.returncode == 0, down.stdout + down.stderr
        assert left == [], f"processes left behind by the endpoint: {left}"


STACK_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                  "AWS_REGION")


@contextmanager
def stack_environment(stack: DeployedStack, folder: Path) -> Iterator[Path]:
    """This process pointed at the stack (tools/local_lake.py, boto3 without an endpoint argument): its
    endpoint and keys in the environment, LAKEPIPE_STACK_OUTPUTS = its outputs, written under folder.
    Yields the outputs file; the environment is restored on exit."""
    outputs = folder / "stack.json"
    outputs.write_text(json.dumps(stack.outputs))
    mp = pytest.MonkeyPatch()
    try:
        for k in STACK_ENV_KEYS:
            mp.setenv(k, stack.env[k])
        mp.setenv("LAKEPIPE_STACK_OUTPUTS", str(outputs))
        yield outputs
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def stack_env(deployed_stack: DeployedStack, tmp_path_factory) -> Iterator[Path]:
    """stack_environment for a whole test module; yields the outputs file."""
    with stack_environment(deployed_stack, tmp_path_factory.mktemp("stack-env")) as outputs:
        yield outputs


# ---- IAM enforcement (tests/e2e/test_iam_enforcement.py) ------------------------------------------------


def pytest_collection_modifyitems(items):
    """test_iam_enforcement breaks pipeline runs on purpose: it runs after every other e2e test (stable
    sort), so their first run of the sample is the stack's first run."""
    items.sort(key=lambda item: item.module.__name__.endswith("test_iam_enforcement"))
