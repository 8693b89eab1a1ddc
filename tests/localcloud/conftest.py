"""Each test module starts its own endpoint on a free port (and stops it, leaving no process behind)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from localcloud.net import free_port
from localcloud.processes import group_members
from tests.support import wait_for  # noqa: F401 - the suite's tests import it from here

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@dataclass
class Endpoint:
    url: str
    port: int
    home: Path
    pid: int

    def client(self, service: str):
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.url, aws_access_key_id="test",
            aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def log(self) -> str:
        return (self.home / "endpoint.log").read_text(errors="replace")


def start_endpoint(tmp: Path, extra_env: dict[str, str] | None = None):
    port = free_port()
    env = dict(os.environ, LOCALCLOUD_PORT=str(port), LOCALCLOUD_DIR=str(tmp / "localcloud"), **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), str(Path(__file__).parent / "helpers"),
                                                      env.get("PYTHONPATH")]))
    up = subprocess.run([sys.executable, "-m", "localcloud", "up", "--deadline", "60"], env=env, cwd=REPO,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stdout + up.stderr
    pid = int((tmp / "localcloud" / "pid").read_text())
    ep = Endpoint(f"http://127.0.0.1:{port}", port, tmp / "localcloud", pid)

    def stop() -> None:
        down = subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, cwd=REPO,
                              capture_output=True, text=True, check=False)
        assert down.returncode == 0, down.stdout + down.stderr
        assert group_members(pid) == [], f"processes left behind: {group_members(pid)}"

    return ep, stop


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    ep, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    yield ep
    stop()


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


ROLE_ARN = "arn:aws:iam::123456789012:role/localcloud-test"


def create_role(ep: Endpoint, name: str = "localcloud-test") -> str:
    iam = ep.client("iam")
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com",' \
            '"states.amazonaws.com","glue.amazonaws.com"]},"Action":"sts:AssumeRole"}]}'
    try:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    # The endpoint evaluates the execution role's policies: this grants what the plumbing tests' functions,
    # jobs and state machines call. tests/localcloud/test_iam_*.py test the enforcement itself.
    iam.put_role_policy(RoleName=name, PolicyName="plumbing-tests", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "s3:*", "lambda:InvokeFunction", "glue:*", "states:*", "sns:Publish", "sqs:SendMessage",
            "events:PutEvents", "athena:*", "logs:*"]}]}))
    return arn
