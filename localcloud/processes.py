"""Child processes started by the endpoint (Lambda handlers, ...), so that shutdown leaves none behind."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

_lock = threading.Lock()
_children: set[subprocess.Popen] = set()


def track(proc: subprocess.Popen) -> None:
    with _lock:
        _children.add(proc)


def untrack(proc: subprocess.Popen) -> None:
    with _lock:
        _children.discard(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a child started with start_new_session=True and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def kill_all() -> None:
    with _lock:
        children = list(_children)
    for proc in children:
        if proc.poll() is None:
            kill_group(proc)
