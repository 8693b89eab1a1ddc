"""tools/cpu_time.py: the CPU of processes the command leaves behind counts; its exit status is kept; a process
still running after the linger time is named and killed."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "cpu_time.py"
BUSY = "import time\\nend = time.process_time() + {s}\\nwhile time.process_time() < end: pass"


def run(*cmd: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "step", *cmd], check=False, capture_output=True, text=True,
                          timeout=60, env=env)


def cpu_seconds(stderr: str) -> float:
    line = [x for x in stderr.splitlines() if x.startswith("== step: ")][-1]
    return float(line.split(", ")[-1].split()[0])


def test_an_orphaned_grandchild_is_waited_for_and_its_cpu_counted():
    # The shell starts a 2.6 CPU-second loop in the background and exits at once: bash's `times` would miss it.
    proc = run("bash", "-c", f"{sys.executable} -c $'{BUSY.format(s=2.6)}' & echo started")
    assert proc.returncode == 0, proc.stderr
    assert "== step: passed in" in proc.stderr
    assert cpu_seconds(proc.stderr) >= 2, proc.stderr  # printed rounded to whole seconds


def test_the_exit_status_is_the_commands():
    proc = run("bash", "-c", "exit 3")
    assert proc.returncode == 3
    assert "== step: failed (exit 3) in" in proc.stderr


def test_a_process_left_running_is_named_and_killed():
    env = dict(os.environ, CPU_TIME_LINGER_S="1")
    proc = run("bash", "-c", "sleep 300 & echo started", env=env)
    assert proc.returncode == 0
    assert "still running 1 s after the command; killed" in proc.stderr, proc.stderr


def test_an_orphan_that_exits_mid_run_is_reaped_at_once(tmp_path):
    # The orphan exits while the command still runs; the command then checks the orphan's pid is gone
    # (a zombie would still be in /proc, state Z).
    pid_file = tmp_path / "pid"
    # The subshell exits at once: its sleep is an orphan. Then poll (deadline 5 s) for the orphan's pid to go.
    script = (f"(sleep 0.2 & echo $! > {pid_file}); pid=$(cat {pid_file}); "
              "for _ in $(seq 50); do [ -e /proc/$pid ] || exit 0; sleep 0.1; done; exit 1")
    proc = run("bash", "-c", script)
    assert proc.returncode == 0, proc.stderr
