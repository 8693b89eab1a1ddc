"""Child processes started by the endpoint (Lambda handlers, ...), so that shutdown leaves none behind."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

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


def _direct_children() -> list[int]:
    me = os.getpid()
    out = []
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open(f"/proc/{stat}/stat") as fh:
                fields = fh.read().split(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            out.append(int(stat))
    return out


def kill_all() -> None:
    """Kill every child (and its process group): Lambda handlers, Glue runner drivers and their JVMs."""
    with _lock:
        children = list(_children)
    for proc in children:
        if proc.poll() is None:
            kill_group(proc)
    for pid in _direct_children():
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc: what a shutdown left behind."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members
