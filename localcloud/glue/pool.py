"""Warm local Glue drivers: a pool of long-lived ``python -m localcloud.glue.driver --serve`` processes.

Each worker is its own process group with one JVM/SparkContext, built with the STATIC settings of the run
that started it (``driver.build_signature``: --extra-jars and static Spark keys such as
spark.sql.extensions). A run goes to an idle worker with the same signature, else to a new worker (an idle
worker with another signature is retired when the pool is full); each run gets a fresh SparkSession there
(driver.run_in_session). At most ``size`` runs execute at once, one per worker.

``prewarm(build, env)`` (the endpoint's CreateJob/UpdateJob, unless LOCALCLOUD_GLUE_PREWARM=0) starts idle workers
for a job's static settings before its first run, one after another, each running the driver's built-in
warm-up (class loading, JIT) in a throwaway session. A run takes such a worker as soon as it is ready: its
request interrupts a warm-up still in progress; a run that fits a pre-warmed worker still starting waits for
it rather than starting another JVM beside it.

``warm=False`` (LOCALCLOUD_GLUE_WARM=0) is the cold mode: one ``python -m localcloud.glue.driver spec.json``
process per run, as before the pool.

The result of a run is what the driver wrote to ``spec["result_path"]`` (``{state, error_message, timings}``),
or the pool's own FAILED/TIMEOUT when the driver died, failed to start or ran past the deadline (its process
group is then killed and the next run gets a new driver).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from localcloud import processes

log = logging.getLogger("localcloud.glue.pool")

KILL_GRACE_S = 10
MARKER_WAIT_S = 10
PREWARM_START_S = 300  # a pre-warmed driver that is not ready by then is killed
PREWARM_WAIT_S = 300  # the next pre-warmed driver starts when the previous one's warm-up ended, or after this
# The job role's credentials reach a run through its own environment, never through a worker's start
# environment (which the JVM and PySpark's Python workers keep).
RUN_ONLY_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass
class PoolRun:
    state: str  # SUCCEEDED | FAILED | TIMEOUT (the caller words the TIMEOUT message)
    error_message: str | None
    timings: dict = field(default_factory=dict)
    driver: dict = field(default_factory=dict)  # pid, runs (served by it, this one included), new


def kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the driver's process group (the driver, its JVM, PySpark's Python workers), SIGKILL what is
    still there after a grace period; returns when the group is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + KILL_GRACE_S
        while time.monotonic() < end:
            proc.poll()  # reap the leader: a zombie is not a member
            if not processes.group_members(proc.pid):
                break
            time.sleep(0.1)  # poll interval of a bounded wait for the processes to exit
        else:
            continue
        break
    proc.poll()
    processes.untrack(proc)


def _exit_text(rc: int | None) -> str:
    if rc is None:
        return "is still running"
    if rc < 0:
        return f"was killed by signal {signal.Signals(-rc).name}"
    return f"ended with exit code {rc}"


def _driver_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in RUN_ONLY_ENV}


def _build(spec: dict) -> dict:
    """The part of a run spec a driver is built from (the build request of driver.serve)."""
    return {"jars": [str(j) for j in spec.get("jars", [])],
            "spark_conf": {k: str(v) for k, v in spec.get("spark_conf", {}).items()}}


def _read_result(spec: dict) -> dict | None:
    try:
        return json.loads(Path(spec["result_path"]).read_text())
    except (OSError, ValueError):
        return None


class _Worker:
    """One warm driver process; its stdout/stderr (JVM included) go to the log of the run it serves."""

    def __init__(self, env: dict[str, str], build: dict):
        self.build = build
        self.scratch = Path(tempfile.mkdtemp(prefix="localcloud-glue-driver-"))  # the JVM's working dir
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.glue.driver", "--serve", str(req_r), str(rep_w)],
            cwd=self.scratch, env=_driver_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(req_r, rep_w))
        os.close(req_r)
        os.close(rep_w)
        processes.track(self.proc)
        self.pid = self.proc.pid
        self.requests = os.fdopen(self._req_w, "w", encoding="utf-8")
        self.replies = os.fdopen(self._rep_r, "rb", buffering=0)  # select() sees every byte
        self.signature: dict | None = None  # set when ready
        self.runs = 0
        self.busy = True
        self.prewarmed = False  # started by DriverPool.prewarm, not by a run
        self.warm_up: dict | None = None  # {outcome, seconds} of a pre-warmed worker's warm-up, once ended
        self.warmed = threading.Event()  # its warm-up ended (or the process did)
        self._sink: IO[str] | None = None
        self._sink_lock = threading.Lock()
        self._marker = threading.Event()
        self._reader = threading.Thread(target=self._pump, name=f"glue-driver-{self.pid}-output", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        # Imported here, not with this module: the package imports the pool, and `-m localcloud.glue.driver`
        # must be the first to load the driver module.
        from localcloud.glue.driver import RUN_END_MARKER, WARMUP_END_MARKER

        marker, warmed = RUN_END_MARKER.encode(), WARMUP_END_MARKER.encode() + b" "
        for raw in iter(self.proc.stdout.readline, b""):
            if raw.rstrip(b"\n") == marker:
                self._marker.set()
                continue
            if raw.startswith(warmed):
                try:
                    self.warm_up = json.loads(raw[len(warmed):])
                except ValueError:
                    self.warm_up = {"outcome": raw[len(warmed):].decode("utf-8", "replace").strip()}
                self.warmed.set()
                continue
            text = raw.decode("utf-8", "replace")
            with self._sink_lock:
                if self._sink is not None:
                    self._sink.write(text)
                    self._sink.flush()
                else:
                    log.info("glue driver %s: %s", self.pid, text.rstrip("\n"))
        self._marker.set()
        self.warmed.set()

    def attach(self, sink: IO[str]) -> None:
        self._marker.clear()
        with self._sink_lock:
            self._sink = sink

    def detach(self, wait_for_marker: bool) -> None:
        if wait_for_marker:
            self._marker.wait(MARKER_WAIT_S)
        with self._sink_lock:
            self._sink = None

    def send(self, msg: dict) -> None:
        self.requests.write(json.dumps(msg) + "\n")
        self.requests.flush()

    def receive(self, deadline: float) -> dict | None:
        """The next reply; None when the process ended first. TimeoutError past the deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.replies], [], [], min(left, 5.0))
            if ready:
                line = self.replies.readline()
                return json.loads(line) if line else None

    def kill(self) -> None:
        kill_group(self.proc)
        self.close()

    def retire(self) -> None:
        """Ask the worker to exit (it stops its SparkContext); kill its group if it does not in time."""
        try:
            self.send({"exit": True})
        except OSError:
            pass  # already gone
        try:
            self.proc.wait(timeout=KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def close(self) -> None:
        for f in (self.requests, self.replies):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self.scratch, ignore_errors=True)


class DriverPool:
    def __init__(self, size: int, warm: bool = True):
        self.size = max(1, size)
        self.warm = warm
        self._workers: list[_Worker] = []
        self._starting = 0
        self._static_sql_keys: frozenset[str] | None = None  # reported by the first worker (Spark's own list)
        self._cond = threading.Condition()
        self._prewarming = threading.Lock()  # one pre-warmed driver starts at a time, whichever job asked
        self._closed = False
        self._running = 0  # cold mode: runs in progress

    # ---- public -------------------------------------------------------------------------------------

    def run(self, spec: dict, spec_path: Path, *, env: dict[str, str], cwd: Path, log_file: IO[str],
            timeout_s: float) -> PoolRun:
        """Run one spec to completion within timeout_s (from now, driver start included); never raises for
        job failures."""
        deadline = time.monotonic() + timeout_s
        if not self.warm:
            return self._run_cold(spec, spec_path, env=env, cwd=cwd, log_file=log_file, deadline=deadline)
        return self._run_warm(spec, spec_path, env=env, cwd=cwd, log_file=log_file, deadline=deadline)

    def workers(self) -> list[dict]:
        """pid, runs, busy and (pre-warmed ones) the warm-up's {outcome, seconds} of each live worker (tests,
        diagnostics)."""
        with self._cond:
            return [{"pid": w.pid, "runs": w.runs, "busy": w.busy, "warm_up": w.warm_up} for w in self._workers]

    def prewarm(self, build: dict, env: dict[str, str], count: int | None = None) -> threading.Thread | None:
        """Start, in the background and one after another, idle workers built with ``build`` (a run spec's
        ``jars`` and ``spark_conf``) until ``count`` (default: the pool's size) workers fit it or the pool is
        full. ``env``: the start environment, as a run's (run-only credentials are dropped). Returns the
        thread doing it (None in cold mode)."""
        if not self.warm:
            return None
        thread = threading.Thread(target=self._prewarm, args=(_build(build), env, count or self.size),
                                  name="glue-driver-prewarm", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        """Stop every worker (idle ones are asked to exit first) and refuse new runs."""
        with self._cond:
            self._closed = True
            workers, self._workers = self._workers, []
            self._cond.notify_all()
        threads = [threading.Thread(target=(w.kill if w.busy else w.retire), daemon=True) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # ---- cold mode ----------------------------------------------------------------------------------

    def _run_cold(self, spec, spec_path, *, env, cwd, log_file, deadline) -> PoolRun:
        with self._cond:
            while self._running >= self.size and not self._closed:
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    return PoolRun("TIMEOUT", None)
            if self._closed:
                return PoolRun("FAILED", "the local Glue executor is shutting down")
            self._running += 1
        try:
            proc = subprocess.Popen([sys.executable, "-m", "localcloud.glue.driver", str(spec_path)], cwd=cwd,
                                    env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            processes.track(proc)
            try:
                rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return PoolRun("TIMEOUT", None, driver={"pid": proc.pid, "runs": 1, "new": True})
            finally:
                kill_group(proc)  # also the JVM, which outlives a driver that ended by a moment
            result = _read_result(spec)
            if result is None:
                return PoolRun("FAILED", f"the job's driver process {_exit_text(rc)} without a result "
                               "(see the run log)", driver={"pid": proc.pid, "runs": 1, "new": True})
            return PoolRun(result["state"], result["error_message"], result.get("timings", {}),
                           {"pid": proc.pid, "runs": 1, "new": True})
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    # ---- pre-warming -------------------------------------------------------------------------------

    def _fits(self, worker: _Worker, spec: dict) -> bool:
        """Whether worker (ready or not) is built with the static settings spec needs."""
        from localcloud.glue.driver import build_signature

        if self._static_sql_keys is None:  # no worker reported Spark's static keys yet: equal builds fit
            return worker.build == _build(spec)
        return build_signature(worker.build, self._static_sql_keys) == build_signature(spec, self._static_sql_keys)

    def _prewarm(self, build: dict, env: dict[str, str], count: int) -> None:
        with self._prewarming:  # jobs learnt together (one terraform apply) pre-warm one driver after another
            self._prewarm_serially(build, env, count)

    def _prewarm_serially(self, build: dict, env: dict[str, str], count: int) -> None:
        for _ in range(count):
            with self._cond:
                if (self._closed or sum(self._fits(w, build) for w in self._workers) >= count
                        or len(self._workers) + self._starting >= self.size):
                    return
                # In the pool at once (busy, no signature): a run that fits waits for it (_acquire).
                worker = _Worker(env, build)
                worker.prewarmed = True
                self._workers.append(worker)
            log.info("glue driver %s: pre-warming for %s", worker.pid, json.dumps(build["spark_conf"]))
            try:
                worker.send({**build, "warm_up": True})
                ready = worker.receive(time.monotonic() + PREWARM_START_S)
            except (OSError, TimeoutError):
                ready = None
            with self._cond:
                ok = bool(ready and ready.get("ready")) and not self._closed and worker in self._workers
                if ok:
                    worker.signature = ready["signature"]
                    self._static_sql_keys = frozenset(ready["static_sql_keys"])
                    worker.busy = False
                elif worker in self._workers:
                    self._workers.remove(worker)
                self._cond.notify_all()
            if not ok:
                log.warning("glue driver %s: pre-warming failed: %s", worker.pid,
                            (ready or {}).get("error_message") or "the driver did not start")
                worker.kill()
                return
            # 2 cores: the next JVM starts once this warm-up is over (or a run took the driver).
            worker.warmed.wait(PREWARM_WAIT_S)

    # ---- warm mode ----------------------------------------------------------------------------------

    def _acquire(self, spec: dict, deadline: float) -> tuple[_Worker | None, bool]:
        """An idle worker built for this spec (busy=True), or (None, True): the caller starts one."""
        from localcloud.glue.driver import build_signature

        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the local Glue executor is shutting down")
                idle = [w for w in self._workers if not w.busy]
                if self._static_sql_keys is not None:
                    wanted = build_signature(spec, self._static_sql_keys)
                    for w in idle:
                        if w.signature == wanted:
                            w.busy = True
                            return w, False
                # A pre-warmed worker that fits is starting: it will be ready sooner than a new one.
                if any(w.prewarmed and w.signature is None and self._fits(w, spec) for w in self._workers):
                    if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                        raise TimeoutError
                    continue
                if len(self._workers) + self._starting < self.size:
                    self._starting += 1
                    return None, True
                if idle:  # full, and no idle worker fits: the least used idle one makes room
                    victim = min(idle, key=lambda w: w.runs)
                    self._workers.remove(victim)
                    self._starting += 1
                    log.info("glue driver %s retired: a run needs other static settings", victim.pid)
                    threading.Thread(target=victim.retire, daemon=True).start()
                    return None, True
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError

    def _release(self, worker: _Worker, reusable: bool) -> None:
        with self._cond:
            if reusable and not self._closed:
                worker.busy = False
            elif worker in self._workers:
                self._workers.remove(worker)
            self._cond.notify_all()

    def _start_worker(self, spec: dict, env: dict, log_file: IO[str], deadline: float) -> tuple[_Worker, dict]:
        """A new worker built for spec (its start-up output goes to this run's log); joins the pool."""
        worker = None
        try:
            worker = _Worker(env, _build(spec))
            worker.attach(log_file)
            worker.send(worker.build)
            ready = worker.receive(deadline)
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()
            if worker is not None:
                worker.kill()
                worker.detach(True)
            raise
        with self._cond:
            self._starting -= 1
            if ready and ready.get("ready"):
                worker.signature = ready["signature"]
                self._static_sql_keys = frozenset(ready["static_sql_keys"])
                self._workers.append(worker)
            self._cond.notify_all()
        if not ready or not ready.get("ready"):
            try:
                rc = worker.proc.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                rc = None
            worker.kill()
            worker.detach(True)
            reason = (ready or {}).get("error_message") or f"the driver process {_exit_text(rc)} (see the run log)"
            raise DriverStartError(f"the job's Spark driver did not start: {reason}")
        return worker, ready

    def _run_warm(self, spec, spec_path, *, env, cwd, log_file, deadline) -> PoolRun:
        t0 = time.monotonic()
        timings: dict = {}
        try:
            worker, start = self._acquire(spec, deadline)
            if start:
                worker, ready = self._start_worker(spec, env, log_file, deadline)
                timings["driver_start_s"] = ready["start_s"]
            else:
                worker.attach(log_file)
        except TimeoutError:
            return PoolRun("TIMEOUT", None, timings)
        except DriverStartError as e:
            return PoolRun("FAILED", str(e), timings)
        timings["driver_wait_s"] = round(time.monotonic() - t0 - timings.get("driver_start_s", 0), 2)
        worker.runs += 1
        info = {"pid": worker.pid, "runs": worker.runs, "new": start}
        try:
            worker.send({"spec_path": str(spec_path), "env": env, "cwd": str(cwd)})
            reply = worker.receive(deadline)
        except TimeoutError:
            worker.kill()
            worker.detach(True)  # its output up to the kill is in the run's log
            self._release(worker, reusable=False)
            return PoolRun("TIMEOUT", None, timings, info)
        except OSError as e:  # the request pipe broke: the worker died between runs
            reply = None
            log.warning("glue driver %s: %s", worker.pid, e)
        if reply is None:  # the process ended during the run (os._exit, a crash, killed)
            try:
                rc = worker.proc.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                rc = None
            worker.kill()
            worker.detach(True)
            self._release(worker, reusable=False)
            return PoolRun("FAILED", f"the job's driver process {_exit_text(rc)} during the run (see the run log)",
                           timings, info)
        worker.detach(True)
        unusable = reply.get("unusable")
        self._release(worker, reusable=not unusable)
        if unusable:
            log.info("glue driver %s retired: %s", worker.pid, unusable)
            threading.Thread(target=worker.retire, daemon=True).start()
        result = _read_result(spec) or {"state": "FAILED", "error_message": "the driver wrote no result",
                                        "timings": {}}
        timings.update(result.get("timings", {}))
        return PoolRun(result["state"], result["error_message"], timings, info)


class DriverStartError(RuntimeError):
    pass


_shared: DriverPool | None = None
_shared_lock = threading.Lock()


def shared() -> DriverPool:
    """The process's pool, sized by LOCALCLOUD_GLUE_WORKERS, warm unless LOCALCLOUD_GLUE_WARM=0."""
    global _shared
    from localcloud import config

    with _shared_lock:
        if _shared is None:
            settings = config.current()
            _shared = DriverPool(settings.glue_workers, warm=settings.glue_warm)
            atexit.register(_shared.shutdown)
        return _shared


def shutdown_shared() -> None:
    """Stop the process's pool (the endpoint's shutdown); a later shared() starts a new one."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.shutdown()
