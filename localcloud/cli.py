"""`python -m localcloud {serve,up,down,status}`: run in the foreground, or manage a background endpoint."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import config
from .processes import group_members


def health(port: int, timeout: float = 1.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://{config.HOST}:{port}/_localcloud/health", timeout=timeout) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def _read_pid(settings: config.Settings) -> int | None:
    try:
        return int(settings.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((config.HOST, port)) == 0


def up(settings: config.Settings, deadline_s: float) -> int:
    started = time.monotonic()
    pid = _read_pid(settings)
    if pid and _alive(pid):
        info = health(settings.port)
        if info and info.get("pid") == pid:
            print(f"localcloud already running at {settings.endpoint_url} (pid {pid})")
            return 0
        print(f"localcloud: pid {pid} from {settings.pid_file} is alive but does not answer on "
              f"{settings.endpoint_url}; run `make down` first", file=sys.stderr)
        return 1
    if _port_in_use(settings.port):
        info = health(settings.port)
        who = f"another localcloud (pid {info.get('pid')})" if info else "another process"
        print(f"localcloud: {config.HOST}:{settings.port} is taken by {who}; set LOCALCLOUD_PORT", file=sys.stderr)
        return 1
    settings.home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LOCALCLOUD_PORT=str(settings.port), LOCALCLOUD_DIR=str(settings.home))
    with open(settings.log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    settings.pid_file.write_text(f"{proc.pid}\n")
    end = started + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            print(f"localcloud exited with {proc.returncode} while starting; last log lines:", file=sys.stderr)
            print(_tail(settings.log_file), file=sys.stderr)
            settings.pid_file.unlink(missing_ok=True)
            return 1
        info = health(settings.port, timeout=0.5)
        if info and info.get("pid") == proc.pid:
            env_file = _write_env_file(settings)
            print(f"localcloud up at {settings.endpoint_url} (pid {proc.pid}) in {time.monotonic() - started:.2f}s; "
                  f"log {settings.log_file}\nclients need fake credentials: `source {env_file}`")
            return 0
        time.sleep(0.05)
    print(f"localcloud not ready after {deadline_s}s; stopping it. Last log lines:", file=sys.stderr)
    print(_tail(settings.log_file), file=sys.stderr)
    _stop(proc.pid, 10)
    settings.pid_file.unlink(missing_ok=True)
    return 1


def _write_env_file(settings: config.Settings) -> Path:
    """Shell exports pointing the AWS CLI/SDKs at this endpoint with fake credentials."""
    path = settings.home / "env"
    path.write_text(
        f"export AWS_ENDPOINT_URL={settings.endpoint_url}\n"
        "export AWS_ACCESS_KEY_ID=test\nexport AWS_SECRET_ACCESS_KEY=test\nexport AWS_DEFAULT_REGION=us-east-1\n"
    )
    return path


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop(pid: int, grace_s: float) -> bool:
    """SIGTERM the endpoint, wait, then SIGKILL its whole process group (it is the group leader)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    end = time.monotonic() + grace_s
    while time.monotonic() < end and _alive(pid):
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    end = time.monotonic() + 5
    while time.monotonic() < end and (_alive(pid) or group_members(pid)):
        time.sleep(0.05)
    return not _alive(pid) and not group_members(pid)


def down(settings: config.Settings) -> int:
    pid = _read_pid(settings)
    if not pid:
        print("localcloud not running (no pid file)")
        return 0
    if not _alive(pid) and not group_members(pid):
        print(f"localcloud not running (stale pid {pid})")
        settings.pid_file.unlink(missing_ok=True)
        return 0
    ok = _stop(pid, 15)
    settings.pid_file.unlink(missing_ok=True)
    if not ok:
        print(f"localcloud: processes of group {pid} still alive: {group_members(pid)}", file=sys.stderr)
        return 1
    print(f"localcloud stopped (pid {pid})")
    return 0


def status(settings: config.Settings) -> int:
    pid = _read_pid(settings)
    info = health(settings.port)
    if info:
        print(json.dumps(info))
        return 0
    print(f"localcloud not answering on {settings.endpoint_url} (pid file: {pid})")
    return 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud")
    parser.add_argument("command", choices=["serve", "up", "down", "status"])
    parser.add_argument("--deadline", type=float, default=float(os.environ.get("LOCALCLOUD_UP_DEADLINE", "60")))
    args = parser.parse_args(argv)
    settings = config.load()
    if args.command == "serve":
        from .server import serve

        serve(settings)
        return 0
    if args.command == "up":
        return up(settings, args.deadline)
    if args.command == "down":
        return down(settings)
    return status(settings)
