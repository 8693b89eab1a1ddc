"""Settings of the local endpoint, read once from the environment.

LOCALCLOUD_PORT      port on 127.0.0.1 (default 4566, LocalStack's)
LOCALCLOUD_DIR       pid, endpoint.log and state/ (default ./.localcloud)
LOCALCLOUD_GLUE_RUNNER  "module:function" replacing localcloud.glue.runner.run_glue_script (tests)
LOCALCLOUD_GLUE_WORKERS how many Glue job runs execute at once (default 2; queued runs stay STARTING); also how
                     many warm Spark drivers the local Glue executor keeps (localcloud/glue/pool.py)
LOCALCLOUD_GLUE_WARM `on` (default): Glue runs reuse warm drivers; `off`: one new driver process (and JVM) per run
LOCALCLOUD_GLUE_PREWARM `on` (default): CreateJob/UpdateJob start (up to LOCALCLOUD_GLUE_WORKERS) warm drivers for
                     the job before its first run, each warmed up with a small built-in workload; `off`: drivers
                     start with the runs that need them
LOCALCLOUD_LAMBDA_ASYNC_RETRY_DELAY seconds between retries of a failed asynchronous invocation (default 1)
LOCALCLOUD_IAM       `on` (default): identity policies are evaluated on every request not signed with an admin
                     key; `off`: nothing is evaluated (debugging)
LOCALCLOUD_IAM_ADMIN_KEYS comma-separated access key ids that act as the account's administrator, never evaluated
                     (default `test,testing`: the fake keys Terraform, the tests and `make run` use)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 4566


@dataclass(frozen=True)
class Settings:
    port: int
    home: Path
    glue_runner: str
    glue_workers: int
    lambda_async_retry_delay: float
    glue_warm: bool = True
    glue_prewarm: bool = True
    iam_enabled: bool = True
    iam_admin_keys: frozenset[str] = frozenset({"test", "testing"})

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def pid_file(self) -> Path:
        return self.home / "pid"

    @property
    def log_file(self) -> Path:
        return self.home / "endpoint.log"


def load() -> Settings:
    return Settings(
        port=int(os.environ.get("LOCALCLOUD_PORT", DEFAULT_PORT)),
        home=Path(os.environ.get("LOCALCLOUD_DIR", ".localcloud")).resolve(),
        glue_runner=os.environ.get("LOCALCLOUD_GLUE_RUNNER", "localcloud.glue.runner:run_glue_script"),
        glue_workers=max(1, int(os.environ.get("LOCALCLOUD_GLUE_WORKERS", "2"))),
        glue_warm=_on_off("LOCALCLOUD_GLUE_WARM", os.environ.get("LOCALCLOUD_GLUE_WARM", "on")),
        glue_prewarm=_on_off("LOCALCLOUD_GLUE_PREWARM", os.environ.get("LOCALCLOUD_GLUE_PREWARM", "on")),
        lambda_async_retry_delay=float(os.environ.get("LOCALCLOUD_LAMBDA_ASYNC_RETRY_DELAY", "1")),
        iam_enabled=_on_off("LOCALCLOUD_IAM", os.environ.get("LOCALCLOUD_IAM", "on")),
        iam_admin_keys=frozenset(k.strip() for k in os.environ.get("LOCALCLOUD_IAM_ADMIN_KEYS", "test,testing").split(",")
                                 if k.strip()),
    )


def _on_off(name: str, value: str) -> bool:
    if value.lower() in ("on", "true", "1"):
        return True
    if value.lower() in ("off", "false", "0"):
        return False
    raise ValueError(f"{name} must be on or off, not {value!r}")


_current: Settings | None = None


def current() -> Settings:
    """The settings of the running endpoint (set by server.serve), else from the environment."""
    global _current
    if _current is None:
        _current = load()
    return _current


def set_current(settings: Settings) -> None:
    global _current
    _current = settings
