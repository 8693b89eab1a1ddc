"""The process that runs local Glue job scripts (started by localcloud.glue.pool, never imported by the runner).

Two modes, one code path per run (``run_in_session``):

* ``python -m localcloud.glue.driver <spec.json>`` (cold, ``LOCALCLOUD_GLUE_WARM=0``): builds a SparkContext for
  this one run, runs it, stops.
* ``python -m localcloud.glue.driver --serve <request fd> <reply fd>`` (a warm pool worker): builds one
  SparkContext with the STATIC settings of its first request (``build``: jars, static Spark
  keys), then serves runs one at a time, each in a fresh ``SparkSession.newSession()`` carrying the run's
  runtime settings (its catalogs, its S3 mirror, its ``spark.sql.*`` --conf keys, ``spec["session_conf"]``). Everything a
  run changes in the shared JVM or in this Python process is undone after it (``RunScope``); a run that
  leaves the driver unusable (stopped context, dead JVM, threads still running) retires the worker.
  A build with ``warm_up`` (a pre-warmed worker, pool.prewarm) first runs ``warm_up`` in a throwaway session;
  a request arriving meanwhile interrupts it.

A run's outcome goes to ``spec["result_path"]`` as JSON: ``{"state", "error_message", "timings",
"spark_app_id"}`` (the runner writes back to Glue the commits of that application during the run).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import runpy
import select
import shutil
import signal
import sys
import threading
import time
import traceback
import warnings
import zipfile
from pathlib import Path

MAX_ERROR_MESSAGE = 2048
# Written to stderr after each warm run; the pool routes the worker's output to the run's log up to it.
RUN_END_MARKER = "\x00localcloud-glue-run-end"
# Written to stderr, with the warm-up's outcome as JSON, when a pre-warmed worker's warm-up has ended.
WARMUP_END_MARKER = "\x00localcloud-glue-warmup-end"
WARMUP_CATALOG = "localcloud_warmup"
WARMUP_BUCKET = "localcloud-warmup"
# Rows in the shape of a feed: duplicate keys (the last wins), three split values.
WARMUP_CSV = "".join(["id,split,value\n"] + [f"k{i % 40},s{i % 3},v{i}\n" for i in range(120)])
DRIVER_APP_NAME = "localcloud-glue-driver"
# A fresh Python worker (forked from PySpark's daemon) per task: a reused worker keeps the modules an
# earlier run's UDFs imported, so a changed --extra-py-files zip would not be used.
STATIC_DEFAULTS = {"spark.python.worker.reuse": "false"}
RESTORED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM)


def glue_error_message(exc: BaseException) -> str:
    """Glue-like ErrorMessage: ``<ExceptionType>: <message>`` (a Java exception for Py4J errors)."""
    name = type(exc).__name__
    msg = str(exc)
    try:
        from py4j.protocol import Py4JJavaError

        if isinstance(exc, Py4JJavaError):
            msg = str(exc.java_exception.toString())
    except Exception as e:  # noqa: BLE001 - the gateway may be gone; keep str(exc)
        print(f"could not read the Java exception: {e}", file=sys.stderr)
    return _clip(f"{name}: {msg}" if msg else name)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_MESSAGE else text[: MAX_ERROR_MESSAGE - 3] + "..."


def _say(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} localcloud-glue driver: {msg}", file=sys.stderr, flush=True)


# ---- static (per SparkContext) vs runtime (per session) settings -------------------------------------

def is_static_key(key: str, static_sql_keys: frozenset[str] | set[str]) -> bool:
    """Settings a session cannot change: every Spark core/Hadoop key (spark.jars, spark.hadoop.*, ...) and
    Spark's static SQL keys (spark.sql.extensions, spark.sql.warehouse.dir, ...), as RuntimeConfig.set
    refuses them. Everything else under spark.sql. (catalogs, shuffle partitions, ...) is per session."""
    return not key.startswith("spark.sql.") or key in static_sql_keys


def build_signature(spec: dict, static_sql_keys: frozenset[str] | set[str]) -> dict:
    """What a driver's SparkContext is built with for this run: runs with equal signatures can share it."""
    return {
        "jars": [str(j) for j in spec.get("jars", [])],
        "static_conf": {k: str(v) for k, v in sorted(spec.get("spark_conf", {}).items())
                        if is_static_key(k, static_sql_keys)},
    }


def _static_sql_keys(jvm) -> frozenset[str]:
    jvm.org.apache.spark.sql.internal.StaticSQLConf.WAREHOUSE_PATH()  # registers the static SQL keys
    sql_conf = getattr(getattr(jvm.org.apache.spark.sql.internal, "SQLConf$"), "MODULE$")
    keys = sql_conf.getClass().getDeclaredField("staticConfKeys")  # private; isStaticConfigKey reads it
    keys.setAccessible(True)
    return frozenset(keys.get(sql_conf))


def build_root_session(spec: dict, warehouse_dir: Path | None = None):
    """The driver's SparkContext (and root session) built with the STATIC settings of ``spec``.

    The JVM is started first with everything that is not a spark.sql. key, so Spark itself can tell which
    spark.sql. keys are static (those join the context's conf; the others are left to the run's session).
    ``warehouse_dir``: the session catalog's warehouse (a warm worker's own, as it drops what runs left there).
    Returns (root session, static SQL keys, signature)."""
    from pyspark import SparkConf, SparkContext

    from localcloud import spark_runtime

    # The s3:// FileSystem is the context's; which mirror it maps to is each run's session setting.
    launch = {**STATIC_DEFAULTS, **spark_runtime.s3_mirror_conf(None)}
    launch.update({k: str(v) for k, v in spec.get("spark_conf", {}).items() if not k.startswith("spark.sql.")})
    if spec.get("jars"):
        launch["spark.jars"] = ",".join(spec["jars"])
    if warehouse_dir is not None:
        launch["spark.sql.warehouse.dir"] = str(warehouse_dir)
    SparkContext._ensure_initialized(conf=SparkConf(loadDefaults=False).setAll(
        spark_runtime.session_conf(DRIVER_APP_NAME, {}, launch).items()))
    static_sql_keys = _static_sql_keys(SparkContext._jvm)
    signature = build_signature(spec, static_sql_keys)
    extra = {**launch, **signature["static_conf"]}
    root = spark_runtime.local_spark_session(DRIVER_APP_NAME, {}, extra)
    return root, static_sql_keys, signature


# ---- one run ----------------------------------------------------------------------------------------

def install_s3_write_through(spec: dict):
    """Reflect the job's boto3 S3 writes and deletes into the mirror as they happen (s3sync.WriteThrough):
    on AWS, an object the job creates with boto3 is readable by Spark's s3:// paths at once."""
    import boto3

    from localcloud.glue.s3sync import WriteThrough

    hooks = WriteThrough(Path(spec["mirror_dir"]), Path(spec["s3_journal_path"]),
                         # its own session: the refresh downloads must not pass through the hooks
                         lambda: boto3.session.Session().client("s3"))
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    hooks.install(boto3.DEFAULT_SESSION.events)  # boto3.client(...) in the job uses this session
    return hooks


def share_botocore_data_loader() -> None:
    """Every botocore session this warm worker creates (each run gets new ones: its own credentials and
    S3 hooks) reads the service models through one loader, which caches what it parsed: a run's clients
    no longer re-read the s3/glue/cloudwatch models and endpoint rule sets (0.1-0.5 s a run). The models
    are static data; credentials, config and events stay per session."""
    import botocore.loaders
    import botocore.session

    loaders: dict = {}
    create = botocore.loaders.create_loader

    def shared(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = create(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared


def _hide_editable_installs() -> None:
    """On Glue only --extra-py-files and installed modules are importable, not this repository's
    editable install (which would let a job import lakepipe without its --extra-py-files zip)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]


def content_addressed_py_files(py_files: list[str], dest: Path) -> list[Path]:
    """--extra-py-files as files named by their content, so SparkContext.addPyFile accepts a changed zip
    of the same name in a later run of the same driver (it refuses a different file under a name it has)
    and an unchanged one is the same file again. A .py becomes a zip holding it (importable the same way)."""
    out = []
    dest.mkdir(parents=True, exist_ok=True)
    for p in map(Path, py_files):
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        if p.suffix == ".py":
            target = dest / f"{p.stem}-{digest}.zip"
            if not target.exists():
                with zipfile.ZipFile(target, "w") as z:
                    z.write(p, p.name)
        else:
            target = dest / f"{p.stem}-{digest}{p.suffix}"
            if not target.exists():
                shutil.copyfile(p, target)
        out.append(target)
    return out


class RunScope:
    """Process state a run may change, captured before it and put back after it (warm workers)."""

    def __init__(self, env: dict | None, cwd: str | None):
        self.env, self.cwd = env, cwd

    def __enter__(self):
        import boto3

        self.saved_env = dict(os.environ)
        self.saved_cwd = os.getcwd()
        self.saved_argv = list(sys.argv)
        self.saved_path = list(sys.path)
        self.saved_meta_path = list(sys.meta_path)
        self.saved_modules = set(sys.modules)
        self.saved_streams = (sys.stdout, sys.stderr, sys.excepthook)
        self.saved_warnings = list(warnings.filters)
        self.saved_signals = {s: signal.getsignal(s) for s in RESTORED_SIGNALS}
        self.saved_threads = set(threading.enumerate())
        root = logging.getLogger()
        self.saved_root_logging = (list(root.handlers), root.level)
        self.saved_loggers = {name: (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
                              for name, lg in logging.Logger.manager.loggerDict.items()
                              if isinstance(lg, logging.Logger)}
        if self.env is not None:
            os.environ.clear()
            os.environ.update(self.env)
        if self.cwd is not None:
            os.chdir(self.cwd)
        boto3.DEFAULT_SESSION = None  # built from this run's environment (credentials, endpoint) on first use
        self.run_roots: list[str] = [p for p in (self.cwd,) if p]
        return self

    def leftover_threads(self) -> list[str]:
        return [t.name for t in threading.enumerate()
                if t not in self.saved_threads and t.is_alive() and not t.daemon]

    def __exit__(self, *exc):
        import importlib

        import boto3

        boto3.DEFAULT_SESSION = None  # drops the run's credentials and its S3 write-through hooks
        sys.stdout, sys.stderr, sys.excepthook = self.saved_streams
        added_paths = [p for p in sys.path if p not in self.saved_path]
        roots = [os.path.realpath(p) for p in self.run_roots + added_paths if p]
        for name in [m for m in sys.modules if m not in self.saved_modules]:
            if _belongs_to(sys.modules.get(name), roots):
                del sys.modules[name]
        sys.path[:] = self.saved_path
        sys.meta_path[:] = self.saved_meta_path
        for p in added_paths:
            sys.path_importer_cache.pop(p, None)
        importlib.invalidate_caches()
        sys.argv[:] = self.saved_argv
        warnings.filters[:] = self.saved_warnings
        signal.alarm(0)
        for s, handler in self.saved_signals.items():
            if handler is not None:
                signal.signal(s, handler)
        root = logging.getLogger()
        for lg in [root, *(x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger))]:
            saved = self.saved_root_logging if lg is root else self.saved_loggers.get(lg.name)
            for h in [h for h in lg.handlers if saved is None or h not in saved[0]]:
                lg.removeHandler(h)
                h.close()
            if saved is None:
                lg.setLevel(logging.NOTSET)
            elif lg is root:
                lg.setLevel(saved[1])
            else:
                lg.handlers[:], lg.level, lg.propagate, lg.disabled = saved
        logging.Logger.manager._clear_cache()  # the levels were assigned directly
        os.chdir(self.saved_cwd)
        os.environ.clear()
        os.environ.update(self.saved_env)
        return False


def _belongs_to(module, roots: list[str]) -> bool:
    """A module imported during the run from the run's own files (script dir, --extra-py-files, cwd), or
    made up by the run (no file, not built in): the next run must import its own version."""
    if module is None:
        return True
    paths = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
    paths = [os.path.realpath(p) for p in paths if isinstance(p, str)]
    if not paths:
        spec = getattr(module, "__spec__", None)
        return getattr(spec, "origin", None) not in ("built-in", "frozen")
    return any(p == r or p.startswith(r + os.sep) for p in paths for r in roots)


def _activate(session) -> None:
    """Make ``session`` what SparkSession.builder.getOrCreate()/getActiveSession() return, here and in the JVM."""
    from pyspark.sql import SparkSession

    SparkSession._instantiatedSession = session
    SparkSession._activeSession = session
    jvm = session._jvm
    jvm.SparkSession.setDefaultSession(session._jsparkSession)
    jvm.SparkSession.setActiveSession(session._jsparkSession)


def new_run_session(root, spec: dict, static_sql_keys):
    """A fresh session of the driver's SparkContext with the run's runtime settings, made the active one
    (the static ones are the SparkContext's own: build_root_session)."""
    from localcloud import spark_runtime
    from localcloud.glue import faults

    session = root.newSession()
    conf = {}
    for name, state in spec.get("catalogs", {}).items():
        conf.update(spark_runtime.catalog_conf(name, state))
    conf.update(faults.catalog_conf(spec.get("fault"), list(spec.get("catalogs", {}))))  # tests only
    conf.update({k: str(v) for k, v in spec.get("spark_conf", {}).items() if not is_static_key(k, static_sql_keys)})
    # Data sources and Iceberg build their Hadoop conf from the session's (SessionState.newHadoopConf): the
    # run's s3:// paths map to the run's own mirror.
    conf[spark_runtime.S3_MIRROR_KEY] = str(Path(spec["mirror_dir"]).resolve())
    conf.update({k: str(v) for k, v in (spec.get("session_conf") or {}).items()})
    for k, v in conf.items():
        session.conf.set(k, v)
    _activate(session)
    return session


def _close_iceberg_catalogs(session) -> None:
    """The run's Iceberg JDBC catalogs hold SQLite connections and a session is never closed: close the
    catalogs the session loaded (CatalogManager keeps them in a private map; reflection reads it)."""
    manager = session._jsparkSession.sessionState().catalogManager()
    field = manager.getClass().getDeclaredField("catalogs")
    field.setAccessible(True)
    loaded = field.get(manager)
    for name in list(session._jvm.scala.collection.JavaConverters.mapAsJavaMap(loaded).keySet()):
        plugin = loaded.apply(name)
        if "icebergCatalog" not in dir(plugin):
            continue
        catalog = plugin.icebergCatalog()
        if catalog.getClass().getName() == "org.apache.iceberg.CachingCatalog":
            inner = catalog.getClass().getDeclaredField("catalog")
            inner.setAccessible(True)
            catalog = inner.get(catalog)
        if "close" in dir(catalog):
            catalog.close()


def reset_shared_state(root, session) -> None:
    """What sessions of one SparkContext share and a run may have left: jobs, cached data, global temp
    views, the session catalog's (in-memory) databases and tables; and the run's catalogs' connections."""
    jvm = root._jvm
    seq = jvm.scala.collection.JavaConverters.seqAsJavaList
    sc = root.sparkContext
    sc.cancelAllJobs()
    session.catalog.clearCache()
    for rdd in list(sc._jsc.getPersistentRDDs().values()):
        rdd.unpersist(False)
    shared = root._jsparkSession.sharedState()
    for view in seq(shared.globalTempViewManager().listViewNames("*")):
        shared.globalTempViewManager().remove(view)
    external = shared.externalCatalog()
    for db in seq(external.listDatabases()):
        if db != "default":
            external.dropDatabase(db, True, True)
            continue
        for table in seq(external.listTables(db)):
            external.dropTable(db, table, True, True)
        for fn in seq(external.listFunctions(db, "*")):
            external.dropFunction(db, fn)
    _close_iceberg_catalogs(session)


def _warm_up_steps(spark) -> list:
    """What the first run of a job would otherwise pay class loading and the JIT for: the ingest's shapes
    (text read through the S3 mirror, a last-wins window, a JSON write, an Iceberg create, MERGE INTO, a
    metadata table) and the view job's (an Iceberg view), in the throwaway catalog WARMUP_CATALOG."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    table, source, state = f"{WARMUP_CATALOG}.db.entities", "localcloud_warmup_source", {}

    def parse():
        cells = F.split("value", ",")
        rows = (spark.read.text(f"s3://{WARMUP_BUCKET}/in/").filter(~F.col("value").startswith("id,"))
                .select(cells[0].alias("id"), cells[1].alias("split"), cells[2].alias("value"),
                        F.monotonically_increasing_id().alias("line")))
        last = Window.partitionBy("id").orderBy(F.col("line").desc())
        state["good"] = (rows.withColumn("n", F.row_number().over(last)).filter("n = 1").drop("n")
                         .localCheckpoint(eager=True))

    def write_json():
        state["good"].filter("split = 's0'").coalesce(1).write.mode("overwrite").json(f"s3://{WARMUP_BUCKET}/out/")

    def create():
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {WARMUP_CATALOG}.db")
        (state["good"].writeTo(table).using("iceberg").partitionedBy(F.col("split"))
         .tableProperty("write.distribution-mode", "hash").tableProperty("write.parquet.compression-codec", "zstd")
         .create())

    def merge():
        state["good"].withColumn("value", F.concat("value", F.lit("+"))).createOrReplaceTempView(source)
        spark.sql(f"MERGE INTO {table} t USING {source} s ON t.id = s.id AND t.split = s.split "
                  "WHEN MATCHED AND t.value <> s.value THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")

    def query():
        spark.sql(f"SELECT split, count(*), max(value) FROM {table} GROUP BY split ORDER BY split").collect()
        spark.sql(f"SELECT snapshot_id FROM {table}.snapshots").collect()

    def view():
        spark.sql(f"CREATE VIEW {WARMUP_CATALOG}.db.v AS SELECT id, value FROM {table} WHERE split = 's1'")
        spark.sql(f"SELECT count(*) FROM {WARMUP_CATALOG}.db.v").collect()
        spark.sql(f"DROP VIEW {WARMUP_CATALOG}.db.v")

    def drop():
        spark.sql(f"DROP TABLE {table} PURGE")

    return [parse, write_json, create, merge, query, view, drop]


def warm_up(root, static_sql_keys, interrupted: threading.Event, scratch: Path) -> dict:
    """Run _warm_up_steps in a throwaway session (its own catalog and S3 mirror under ``scratch``), stopping
    before the next step once ``interrupted`` is set (a run's request arrived; its Spark jobs are cancelled
    then). Leaves what a run leaves: reset_shared_state. Returns {outcome, seconds}; never raises."""
    t0 = time.monotonic()
    session, outcome = None, "done"
    try:
        (scratch / "s3" / WARMUP_BUCKET / "in").mkdir(parents=True, exist_ok=True)
        (scratch / "s3" / WARMUP_BUCKET / "in" / "data.csv").write_text(WARMUP_CSV)
        session = new_run_session(root, {"catalogs": {WARMUP_CATALOG: str(scratch / "catalog")},
                                         "mirror_dir": str(scratch / "s3")}, static_sql_keys)
        for step in _warm_up_steps(session):
            if interrupted.is_set():
                outcome = f"interrupted by a run before {step.__name__}"
                break
            step()
    except Exception as e:  # noqa: BLE001 - a warm-up that fails (or is cancelled) only warmed less
        outcome = "interrupted by a run" if interrupted.is_set() else f"failed: {type(e).__name__}"
        if not interrupted.is_set():
            traceback.print_exc()
    if session is not None:
        reset_shared_state(root, session)  # raises: the worker is not clean, serve() ends it
    _activate(root)
    shutil.rmtree(scratch, ignore_errors=True)
    return {"outcome": outcome, "seconds": round(time.monotonic() - t0, 2)}


def _interrupt_on_request(request_fd: int, root, interrupted: threading.Event, done: threading.Event) -> None:
    """Set ``interrupted`` and cancel the warm-up's Spark jobs as soon as a request is waiting."""
    while not done.is_set():
        if select.select([request_fd], [], [], 0.2)[0]:  # 0.2 s: how long a finished warm-up waits for it
            interrupted.set()
            root.sparkContext.cancelAllJobs()
            return


def run_in_session(root, spec: dict, static_sql_keys, *, warm: bool, env: dict | None = None,
                   cwd: str | None = None) -> dict:
    """Run the job script of ``spec`` in a fresh session of ``root``'s SparkContext; never raises."""
    from pyspark import SparkContext
    from pyspark.sql import SQLContext

    result: dict = {"state": "FAILED", "error_message": None, "timings": {}}
    t0 = time.monotonic()
    sc = root.sparkContext
    session = None
    with RunScope(env if warm else None, cwd if warm else None) as scope:
        try:
            session = new_run_session(root, spec, static_sql_keys)
            result["spark_app_id"] = sc.applicationId  # the runner's write-back writes this run's commits only
            SQLContext._instantiatedContext = None  # SQLContext.getOrCreate() then wraps the run's session
            sc._python_includes = []  # UDFs of this run ship this run's --extra-py-files only
            run_dir = Path(spec["result_path"]).parent
            for p in content_addressed_py_files(spec.get("py_files", []), run_dir / "py-files"):
                # addPyFile puts .zip/.egg on sys.path here and ships them to the Python workers, as
                # --extra-py-files (spark.submit.pyFiles) does on Glue.
                sc.addPyFile(str(p))
                scope.run_roots.append(str(p))
            result["timings"]["session_s"] = round(time.monotonic() - t0, 2)
            if spec.get("s3_journal_path"):
                install_s3_write_through(spec)
            _hide_editable_installs()
            sys.argv = list(spec["argv"])
            script_dir = str(Path(spec["script"]).parent)
            sys.path.insert(0, script_dir)  # as `python script.py` would
            scope.run_roots.append(script_dir)
            _say(f"running {spec['script']}")
            t2 = time.monotonic()
            try:
                runpy.run_path(spec["script"], run_name="__main__")
                result["state"] = "SUCCEEDED"
            except SystemExit as e:  # sys.exit(0) or sys.exit() ends a Glue job successfully
                if e.code in (None, 0):
                    result["state"] = "SUCCEEDED"
                else:
                    result["error_message"] = f"SystemExit: {e.code}"
            finally:
                result["timings"]["script_s"] = round(time.monotonic() - t2, 2)
        except BaseException as e:  # noqa: BLE001 - every failure of the job is the run's FAILED
            traceback.print_exc()
            result["state"] = "FAILED"
            result["error_message"] = glue_error_message(e)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        result["unusable"] = driver_unusable(root, scope, SparkContext)
        if result["unusable"] and result["state"] == "FAILED":
            result["error_message"] = _clip(f"{result['error_message']} ({result['unusable']})")
        if warm and not result["unusable"] and session is not None:
            try:
                reset_shared_state(root, session)
                _activate(root)
            except Exception as e:  # noqa: BLE001 - a driver that cannot be cleaned is not reused
                traceback.print_exc()
                result["unusable"] = f"the driver could not be reset after the run: {type(e).__name__}: {e}"
    return result


def driver_unusable(root, scope: RunScope, spark_context_cls) -> str | None:
    """Why the driver cannot serve another run, or None."""
    sc = root.sparkContext
    if spark_context_cls._active_spark_context is not sc or sc._jsc is None:
        return "the job stopped the SparkContext (spark.stop()) during the run"
    try:
        if sc._jsc.sc().isStopped():
            return "the job stopped the SparkContext (spark.stop()) during the run"
    except Exception as e:  # noqa: BLE001 - Py4J errors: the JVM is gone
        return f"the driver's JVM died during the run ({type(e).__name__})"
    threads = scope.leftover_threads()
    if threads:
        return f"the job left threads running: {', '.join(threads)}"
    return None


# ---- entry points -----------------------------------------------------------------------------------

def _write_result(spec: dict, result: dict) -> None:
    tmp = Path(spec["result_path"] + ".tmp")
    tmp.write_text(json.dumps({k: result[k] for k in ("state", "error_message", "timings", "spark_app_id")
                              if k in result}))
    os.replace(tmp, spec["result_path"])


def run_cold(spec: dict) -> dict:
    """One run in a SparkContext of its own (cold mode)."""
    t0 = time.monotonic()
    root = None
    try:
        root, static_sql_keys, _ = build_root_session(spec)
        start_s = time.monotonic() - t0
        result = run_in_session(root, spec, static_sql_keys, warm=False)
        result["timings"]["session_s"] = round(start_s + result["timings"].get("session_s", 0), 2)
    except BaseException as e:  # noqa: BLE001 - the SparkContext did not start
        traceback.print_exc()
        result = {"state": "FAILED", "error_message": glue_error_message(e), "timings": {}}
    finally:
        if root is not None:
            try:
                root.stop()
            except Exception:  # noqa: BLE001
                traceback.print_exc()
    return result


def serve(request_fd: int, reply_fd: int) -> int:
    """A warm worker: the first request line is the build spec, each later one a run (or ``exit``)."""
    for fd in (request_fd, reply_fd):
        os.set_inheritable(fd, False)  # the JVM and the jobs' subprocesses must not hold the pool's pipes
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    replies = os.fdopen(reply_fd, "w", encoding="utf-8")

    def reply(msg: dict) -> None:
        replies.write(json.dumps(msg) + "\n")
        replies.flush()

    import boto3  # noqa: F401 - imported once here, not by the first run (its modules stay loaded)

    share_botocore_data_loader()
    import localcloud.glue.catalog_sync
    import localcloud.glue.s3sync  # noqa: F401

    build = json.loads(requests.readline() or "null")
    if build is None:
        return 0
    t0 = time.monotonic()
    try:
        root, static_sql_keys, signature = build_root_session(build, Path.cwd() / "spark-warehouse")
    except BaseException as e:  # noqa: BLE001 - reported to the pool, which fails the run
        traceback.print_exc()
        reply({"ready": False, "error_message": glue_error_message(e)})
        return 1
    reply({"ready": True, "pid": os.getpid(), "static_sql_keys": sorted(static_sql_keys), "signature": signature,
           "start_s": round(time.monotonic() - t0, 2)})
    if build.get("warm_up"):  # a pre-warmed worker (pool.prewarm): a run may already be on its way
        interrupted, done = threading.Event(), threading.Event()
        watcher = threading.Thread(target=_interrupt_on_request, args=(requests.fileno(), root, interrupted, done),
                                   name="warm-up-interrupt", daemon=True)
        watcher.start()
        try:
            warmed = warm_up(root, static_sql_keys, interrupted, Path.cwd() / "warm-up")
        except Exception as e:  # noqa: BLE001 - the reset after it failed: serve no run on this driver
            traceback.print_exc()
            warmed = {"outcome": f"the driver could not be reset after the warm-up: {type(e).__name__}"}
        done.set()
        watcher.join()
        _say(f"warm-up {warmed['outcome']}" + (f" ({warmed['seconds']} s)" if "seconds" in warmed else ""))
        print(f"{WARMUP_END_MARKER} {json.dumps(warmed)}", file=sys.stderr, flush=True)
        if "seconds" not in warmed:
            root.stop()
            return 1
    for runs, line in enumerate(requests, start=1):
        msg = json.loads(line)
        if msg.get("exit"):
            break
        spec = json.loads(Path(msg["spec_path"]).read_text())
        if build_signature(spec, static_sql_keys) != signature:  # the pool routes by signature: a bug if so
            result = {"state": "FAILED", "unusable": "routed to a driver built with other static settings",
                      "error_message": "localcloud: run routed to a driver built with other static settings",
                      "timings": {}}
        else:
            result = run_in_session(root, spec, static_sql_keys, warm=True, env=msg.get("env"), cwd=msg.get("cwd"))
        _write_result(spec, result)
        print(RUN_END_MARKER, file=sys.stderr, flush=True)
        reply({"done": True, "runs": runs, "unusable": result["unusable"]})
        if result["unusable"]:
            _say(f"retiring: {result['unusable']}")
            break
    try:
        root.stop()
    except Exception as e:  # noqa: BLE001 - the JVM may be gone already
        _say(f"stopping the SparkContext: {type(e).__name__}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "--serve":
        return serve(int(argv[2]), int(argv[3]))
    spec = json.loads(Path(argv[1]).read_text())
    _write_result(spec, run_cold(spec))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
