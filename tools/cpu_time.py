"""Run a command and print its wall time and the CPU seconds it and every process it started used:
`cpu_time.py LABEL CMD...` prints `== LABEL: passed in W s, C CPU-s` (or `failed (exit N)`) on stderr.

bash's `times` counts only the children its processes waited for; a daemon a test suite starts (the local
endpoint, a Spark JVM, a warm Glue driver) is often left to exit on its own, and re-parented away its CPU is
lost. This process makes itself the child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every orphaned
descendant is re-parented to it and reaped here, and its usage counts in RUSAGE_CHILDREN.
The command's exit status is this process's; descendants still running when the command ends are waited
for (a test suite must leave none; the wait is bounded, then they are named and killed).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
LINGER_S = float(os.environ.get("CPU_TIME_LINGER_S", "60"))


def _reap_all(deadline: float) -> list[int]:
    """Reap descendants until none is left or the deadline passes; returns the pids still alive then."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return []
        if pid:
            continue
        if time.monotonic() > deadline:
            return [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == os.getpid()]
        time.sleep(0.05)


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def main() -> int:
    label, cmd = sys.argv[1], sys.argv[2:]
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    started = time.monotonic()
    child = subprocess.Popen(cmd, close_fds=False)  # keeps make's jobserver descriptors for a sub-make
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the command (same process group); report it
    # A subreaper must reap as it goes: an orphan that exits mid-run would otherwise stay a zombie (its pid
    # taken, `kill -0` answering) until the command ends.
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child.pid:
            rc = os.waitstatus_to_exitcode(status)
            break
    wall = time.monotonic() - started
    left = _reap_all(time.monotonic() + LINGER_S)
    for pid in left:
        print(f"cpu_time: {label}: process {pid} still running {LINGER_S:.0f} s after the command; killed",
              file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
    _reap_all(time.monotonic() + 5)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome = "passed" if rc == 0 else f"failed (exit {rc})"
    print(f"== {label}: {outcome} in {wall:.0f} s, {usage.ru_utime + usage.ru_stime:.0f} CPU-s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
