"""The local Glue executor's pool of warm Spark drivers (localcloud/glue/pool.py, driver.py --serve), pre-warmed
ones included (DriverPool.prewarm; the endpoint's CreateJob).

Runs here go to the pool directly with hand-made run specs (what the runner writes to spec.json), so each
test controls which driver serves which run. Scripts write what they observe to JSON; the tests assert on it.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import zipfile
from pathlib import Path

import pytest

from localcloud.glue.driver import WARMUP_CATALOG
from localcloud.glue.pool import DriverPool
from localcloud.glue.runner import _subprocess_env
from localcloud.processes import group_members

from .conftest import create_role, start_endpoint, wait_for

pytestmark = pytest.mark.spark

JOURNAL_KEY = "fs.localcloud.s3.journal"

# Run 1 leaves behind everything a run can leave in a shared driver; run 2 looks for it.
POLLUTE = '''
import json, logging, os, sys
import boto3
import lib
from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
out = sys.argv[1]
spark.range(3).createOrReplaceTempView("run1_view")
spark.range(3).createOrReplaceGlobalTempView("run1_global")
spark.conf.set("spark.sql.shuffle.partitions", "7")
spark.conf.set("spark.sql.lakepipe.marker", "run1")
spark.sql("CREATE NAMESPACE IF NOT EXISTS run1_cat.db")
spark.sql("CREATE TABLE IF NOT EXISTS run1_cat.db.t (a INT) USING iceberg")
spark.sql("CREATE TABLE default.run1_session_table (a INT) USING parquet")
spark.sql("CACHE TABLE run1_view")
spark.range(5).cache().count()
os.environ["RUN1_VAR"] = "set by run 1"
handler = logging.StreamHandler()
handler.name = "run1-handler"
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
sys.path.append("/run1/path")
hooked = boto3.DEFAULT_SESSION is not None  # the S3 write-through hooks live on boto3's default session
hadoop = spark._jsparkSession.sessionState().newHadoopConf()
fs = spark._jvm.org.apache.hadoop.fs.Path("s3://bucket/key").getFileSystem(hadoop)
udf = F.udf(lambda _: lib.VERSION)
json.dump({
    "pid": os.getpid(),
    "lib_driver": lib.VERSION,
    "lib_udf": [r[0] for r in spark.range(2).select(udf("id")).collect()],
    "journal_seen_by_fs": fs.getConf().get("''' + JOURNAL_KEY + '''"),
    "fs_class": fs.getClass().getName(),
    "aws_key": os.environ.get("AWS_ACCESS_KEY_ID"),
    "cwd": os.getcwd(),
    "cached": not spark._jsparkSession.sharedState().cacheManager().isEmpty(),
    "write_through_hooked": hooked,
    "botocore_loader": id(boto3.session.Session()._session.get_component("data_loader")),
}, open(out, "w"))
'''

OBSERVE = '''
import json, logging, os, sys
import boto3
default_boto3_session = boto3.DEFAULT_SESSION
import lib
from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
out = sys.argv[1]
def fails(sql):
    try:
        spark.sql(sql).collect()
        return None
    except Exception as e:
        return type(e).__name__
udf = F.udf(lambda _: lib.VERSION)
hadoop = spark._jsparkSession.sessionState().newHadoopConf()
json.dump({
    "pid": os.getpid(),
    "lib_driver": lib.VERSION,
    "lib_udf": [r[0] for r in spark.range(2).select(udf("id")).collect()],
    "temp_views": [r.viewName for r in spark.sql("SHOW VIEWS").collect()],
    "global_views": [r.tableName for r in spark.sql("SHOW TABLES IN global_temp").collect()],
    "session_tables": [r.tableName for r in spark.sql("SHOW TABLES IN default").collect()],
    "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
    "marker": spark.conf.get("spark.sql.lakepipe.marker", None),
    "run1_catalog": fails("SHOW NAMESPACES IN run1_cat"),
    "run2_catalog": fails("SHOW NAMESPACES IN run2_cat"),
    "cached": not spark._jsparkSession.sharedState().cacheManager().isEmpty(),
    "run1_var": os.environ.get("RUN1_VAR"),
    "journal": hadoop.get("''' + JOURNAL_KEY + '''"),
    "aws_key": os.environ.get("AWS_ACCESS_KEY_ID"),
    "cwd": os.getcwd(),
    "same_session_object": SparkSession.getActiveSession() is spark,
    "log_handlers": [h.name for h in logging.getLogger().handlers],
    "log_level": logging.getLogger().level,
    "run1_path": "/run1/path" in sys.path,
    "boto3_default_session": repr(default_boto3_session),
    "warmup_catalog": fails("SHOW NAMESPACES IN WARMUP_CATALOG"),
    "persistent_rdds": len(spark.sparkContext._jsc.getPersistentRDDs()),
    "botocore_loader": id(boto3.session.Session()._session.get_component("data_loader")),
    "boto3_key": boto3.session.Session().get_credentials().access_key,
}, open(out, "w"))
'''.replace("WARMUP_CATALOG", WARMUP_CATALOG)

SIMPLE = '''
import json, os, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
json.dump({"pid": os.getpid(), "n": spark.range(10).count()}, open(sys.argv[1], "w"))
'''


def _zip(path: Path, files: dict[str, str]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


ICEBERG_EXTENSIONS = {"spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"}


def run_env(key: str = "AKIDRUN") -> dict[str, str]:
    return _subprocess_env("http://127.0.0.1:1", "us-east-1", {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "secret"})


class Runs:
    """Specs as the runner writes them, run through one pool; the S3 mirror dir is shared (static)."""

    def __init__(self, base: Path, pool: DriverPool):
        self.base, self.pool = base, pool
        self.mirror = base / "mirror"
        self.mirror.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def run(self, script: str, *, catalogs=(), py_files=(), session_conf=None, timeout_s=300, key="AKIDRUN",
            spark_conf=None, journal=False, mirror=None):
        self.count += 1
        run_dir = self.base / f"run{self.count}"
        work = run_dir / "work"
        work.mkdir(parents=True)
        (run_dir / "job.py").write_text(script)
        out = run_dir / "observed.json"
        spec = {
            "script": str(run_dir / "job.py"),
            "argv": [str(run_dir / "job.py"), str(out)],
            "py_files": [str(p) for p in py_files],
            "jars": [],
            "spark_conf": {**ICEBERG_EXTENSIONS, **(spark_conf or {})},
            "catalogs": {c: str(self.base / "iceberg" / c) for c in catalogs},
            "glue_catalogs": [],
            "mirror_dir": str(mirror or self.mirror),
            "result_path": str(run_dir / "result.json"),
        }
        if session_conf is not None:
            spec["session_conf"] = session_conf
        if journal:
            spec["s3_journal_path"] = str(run_dir / "s3_write_through.jsonl")
        (run_dir / "spec.json").write_text(json.dumps(spec))
        env = run_env(key)
        with open(run_dir / "run.log", "a", encoding="utf-8") as log:
            outcome = self.pool.run(spec, run_dir / "spec.json", env=env, cwd=work, log_file=log, timeout_s=timeout_s)
        observed = json.loads(out.read_text()) if out.exists() else None
        return outcome, observed, (run_dir / "run.log").read_text(errors="replace"), work


@pytest.fixture
def pool():
    p = DriverPool(2)
    pids: list[int] = []
    yield p, pids
    pids += [w["pid"] for w in p.workers()]
    p.shutdown()
    assert [pid for pid in pids if group_members(pid)] == [], "driver processes left behind"


@pytest.mark.timeout(900)
def test_runs_on_a_warm_driver_do_not_see_each_other(pool, tmp_path):
    p, pids = pool
    runs = Runs(tmp_path, p)
    lib_zip = tmp_path / "dist1" / "lib.zip"
    first, seen1, log1, work1 = runs.run(
        POLLUTE, catalogs=["run1_cat"], py_files=[_zip(lib_zip, {"lib/__init__.py": "VERSION = 'v1'\n"})],
        session_conf={JOURNAL_KEY: "/runs/1/journal.jsonl"}, key="AKIDRUNONE", journal=True)
    assert first.state == "SUCCEEDED", f"{first.error_message}\n{log1[-3000:]}"
    assert first.driver["new"] and first.driver["runs"] == 1
    assert seen1["lib_driver"] == "v1" and seen1["lib_udf"] == ["v1", "v1"]
    assert seen1["fs_class"] == "localcloud.s3.MirrorFileSystem"
    assert seen1["journal_seen_by_fs"] == "/runs/1/journal.jsonl"  # session_conf reaches the FileSystem
    assert seen1["aws_key"] == "AKIDRUNONE" and seen1["cwd"] == str(work1)
    assert seen1["cached"] and seen1["write_through_hooked"]
    pids.append(first.driver["pid"])

    # The same zip name from another place, with other code: run 2 must import its own.
    second, seen2, log2, work2 = runs.run(
        OBSERVE, catalogs=["run2_cat"], py_files=[_zip(tmp_path / "dist2" / "lib.zip",
                                                       {"lib/__init__.py": "VERSION = 'v2'\n"})],
        key="AKIDRUNTWO")
    assert second.state == "SUCCEEDED", f"{second.error_message}\n{log2[-3000:]}"
    # Warm: the same driver process served it, as its second run.
    assert second.driver == {"pid": first.driver["pid"], "runs": 2, "new": False}
    assert seen2["pid"] == seen1["pid"]
    assert "driver_start_s" not in second.timings and "driver_start_s" in first.timings
    assert seen2["lib_driver"] == "v2" and seen2["lib_udf"] == ["v2", "v2"]
    assert seen2["temp_views"] == [] and seen2["global_views"] == [] and seen2["session_tables"] == []
    assert seen2["shuffle_partitions"] == "4" and seen2["marker"] is None
    assert seen2["run1_catalog"] is not None and seen2["run2_catalog"] is None
    assert seen2["cached"] is False
    assert seen2["run1_var"] is None and seen2["journal"] is None
    assert seen2["aws_key"] == "AKIDRUNTWO" and seen2["cwd"] == str(work2)
    assert seen2["same_session_object"]
    assert "run1-handler" not in seen2["log_handlers"] and seen2["log_level"] == 30  # WARNING, Python's default
    assert not seen2["run1_path"] and seen2["boto3_default_session"] == "None"  # no hooks, no run 1 credentials
    assert seen2["persistent_rdds"] == 0
    # Only botocore's parsed service models carry over (one loader per worker), not credentials.
    assert seen2["botocore_loader"] == seen1["botocore_loader"] and seen2["boto3_key"] == "AKIDRUNTWO"
    # The run's output (Python and Spark's) went to the run's own log.
    assert "running " + str(tmp_path / "run2" / "job.py") in log2 and "run1" not in log2


CRASHES = {
    "spark.stop() then Spark": ("spark.stop()\nspark.range(1).count()\n", "spark.stop()"),
    "os._exit": ("import os\nos._exit(3)\n", "exit code 3"),
    "the JVM killed": (("import os, signal\nos.kill(spark._jvm.ProcessHandle.current().pid(), signal.SIGKILL)\n"
                        "spark.range(1).count()\n"), "JVM died"),
}


@pytest.mark.timeout(900)
def test_a_run_that_breaks_its_driver_fails_and_the_next_run_gets_a_new_one(pool, tmp_path):
    p, pids = pool
    runs = Runs(tmp_path, p)
    ok, _, log, _ = runs.run(SIMPLE)
    assert ok.state == "SUCCEEDED", log[-3000:]
    pids.append(ok.driver["pid"])
    for what, (body, message) in CRASHES.items():
        broken, _, log, _ = runs.run("from pyspark.sql import SparkSession\n"
                                     "spark = SparkSession.builder.getOrCreate()\n" + body)
        assert broken.state == "FAILED", what
        assert message in broken.error_message, f"{what}: {broken.error_message}\n{log[-2000:]}"
        assert broken.driver["pid"] == pids[-1], what  # the warm driver took it ...
        after, seen_after, log, _ = runs.run(SIMPLE)
        assert after.state == "SUCCEEDED", f"after {what}: {after.error_message}\n{log[-3000:]}"
        assert after.driver["new"] and after.driver["pid"] != pids[-1], what  # ... and the next run a new one
        assert seen_after == {"pid": after.driver["pid"], "n": 10}
        assert wait_for(lambda pid=pids[-1]: not group_members(pid), 60, f"the broken driver {pids[-1]} to go")
        pids.append(after.driver["pid"])

    # Stopping the session as the last statement is not a failure; the driver is not reused.
    stopped, _, log, _ = runs.run(SIMPLE + "spark.stop()\n")
    assert stopped.state == "SUCCEEDED", log[-3000:]
    assert stopped.driver["pid"] == pids[-1]
    again, _, _, _ = runs.run(SIMPLE)
    assert again.state == "SUCCEEDED" and again.driver["new"]
    pids.append(again.driver["pid"])

    # Past its timeout: TIMEOUT, the driver's process group is killed, the next run gets a new driver.
    hung, _, log, _ = runs.run("import threading\nthreading.Event().wait()\n", timeout_s=8)
    assert hung.state == "TIMEOUT", log[-2000:]
    assert hung.driver["pid"] == pids[-1] and group_members(pids[-1]) == []
    last, _, log, _ = runs.run(SIMPLE)
    assert last.state == "SUCCEEDED" and last.driver["new"], log[-2000:]
    pids.append(last.driver["pid"])


RENDEZVOUS = '''
import json, os, sys, time
from pathlib import Path
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
me, other, out = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
started = time.time()
me.write_text(str(started))
deadline = time.monotonic() + 240
while not other.exists():  # the other run must start while this one is still running
    if time.monotonic() > deadline:
        raise TimeoutError("the other run did not start while this one ran")
    time.sleep(0.2)
n = spark.range(100000).selectExpr("sum(id)").collect()[0][0]
json.dump({"pid": os.getpid(), "started": started, "other_started": float(other.read_text()),
           "ended": time.time(), "n": n}, open(out, "w"))
'''


@pytest.mark.timeout(900)
def test_two_runs_at_once_execute_concurrently(pool, tmp_path):
    p, pids = pool
    runs = [Runs(tmp_path / name, p) for name in ("a", "b")]
    marks = {name: tmp_path / f"{name}.started" for name in ("a", "b")}
    results = {}

    def go(name, other):
        r = runs[0] if name == "a" else runs[1]
        script = RENDEZVOUS.replace("sys.argv[1]", repr(str(marks[name]))).replace(
            "sys.argv[2]", repr(str(marks[other]))).replace("sys.argv[3]", "sys.argv[1]")
        results[name] = r.run(script, catalogs=[f"cat_{name}"])

    threads = [threading.Thread(target=go, args=("a", "b")), threading.Thread(target=go, args=("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a, seen_a, log_a, _), (b, seen_b, log_b, _) = results["a"], results["b"]
    assert a.state == "SUCCEEDED", f"{a.error_message}\n{log_a[-3000:]}"
    assert b.state == "SUCCEEDED", f"{b.error_message}\n{log_b[-3000:]}"
    pids += [a.driver["pid"], b.driver["pid"]]
    assert seen_a["pid"] != seen_b["pid"]  # two drivers
    # Each run saw the other start before it ended: the runs overlapped.
    assert seen_a["started"] <= seen_b["ended"] and seen_b["started"] <= seen_a["ended"]
    assert seen_a["other_started"] == seen_b["started"] and seen_a["n"] == seen_b["n"] == 4999950000


JOB = '''
import os
from pyspark.sql import SparkSession
print("driver pid", os.getpid(), SparkSession.builder.getOrCreate().range(3).count())
'''


@pytest.mark.timeout(600)
def test_the_endpoint_prewarms_a_jobs_driver_and_stops_its_warm_drivers(tmp_path):
    # One worker: one driver to pre-warm (the second would only cost this test time).
    ep, stop = start_endpoint(tmp_path, {"LOCALCLOUD_GLUE_PREWARM": "on", "LOCALCLOUD_GLUE_WORKERS": "1"})
    try:
        s3, glue = ep.client("s3"), ep.client("glue")
        s3.create_bucket(Bucket="pool-job")
        s3.put_object(Bucket="pool-job", Key="job.py", Body=JOB.encode())
        glue.create_job(Name="pool", Role=create_role(ep), GlueVersion="5.0",
                        Command={"Name": "glueetl", "ScriptLocation": "s3://pool-job/job.py"})
        run_id = glue.start_job_run(JobName="pool")["JobRunId"]

        def done():
            run = glue.get_job_run(JobName="pool", RunId=run_id)["JobRun"]
            return run if run["JobRunState"] not in ("STARTING", "RUNNING", "WAITING") else None

        run = wait_for(done, 300, "the job run", interval=0.5)
        log = (ep.home / "state" / "glue" / "logs" / "pool" / f"{run_id}.log").read_text()
        assert run["JobRunState"] == "SUCCEEDED", f"{run.get('ErrorMessage')}\n{log[-3000:]}"
        driver_pid = int(re.search(r"driver pid (\d+) 3", log).group(1))
        # CreateJob started a driver for the job: its first run did not start one.
        assert f"driver pid {driver_pid}: warm, run 1 on it" in log, log[-3000:]
        assert group_members(driver_pid), "the warm driver should outlive its run"
    finally:
        stop()
    assert wait_for(lambda: not group_members(driver_pid), 30, "the driver to stop with the endpoint")
    assert not os.path.exists(f"/proc/{driver_pid}")


@pytest.mark.timeout(600)
def test_cold_mode_starts_a_driver_per_run(tmp_path):
    p = DriverPool(1, warm=False)  # LOCALCLOUD_GLUE_WARM=0
    runs = Runs(tmp_path, p)
    first, seen1, log, _ = runs.run(SIMPLE)
    assert first.state == "SUCCEEDED", log[-3000:]
    second, seen2, log, _ = runs.run(SIMPLE)
    assert second.state == "SUCCEEDED", log[-3000:]
    assert seen1["pid"] != seen2["pid"] and second.driver == {"pid": seen2["pid"], "runs": 1, "new": True}
    assert group_members(seen1["pid"]) == [] and group_members(seen2["pid"]) == []
    hung, _, log, _ = runs.run("import threading\nthreading.Event().wait()\n", timeout_s=8)
    assert hung.state == "TIMEOUT", log[-2000:]
    assert group_members(hung.driver["pid"]) == []


CONF = '''
import json, os, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
json.dump({"pid": os.getpid(), "serializer": spark.sparkContext.getConf().get("spark.serializer", None),
           "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions")}, open(sys.argv[1], "w"))
'''
KRYO = {"spark.serializer": "org.apache.spark.serializer.KryoSerializer"}


@pytest.mark.timeout(600)
def test_runs_go_to_a_driver_built_with_their_static_settings(pool, tmp_path):
    p, pids = pool
    runs = Runs(tmp_path, p)
    plain, seen_plain, log, _ = runs.run(CONF)
    assert plain.state == "SUCCEEDED", log[-3000:]
    # spark.serializer is a SparkContext setting: the warm driver cannot take it, a new one is built with it.
    kryo, seen_kryo, log, _ = runs.run(CONF, spark_conf=KRYO)
    assert kryo.state == "SUCCEEDED", log[-3000:]
    assert kryo.driver["new"] and kryo.driver["pid"] != plain.driver["pid"]
    assert seen_plain["serializer"] is None and seen_kryo["serializer"] == KRYO["spark.serializer"]
    # Runtime keys (spark.sql.*) are per session: the first driver takes this run.
    again, seen, log, _ = runs.run(CONF, spark_conf={"spark.sql.shuffle.partitions": "3"})
    assert again.state == "SUCCEEDED", log[-3000:]
    assert again.driver == {"pid": plain.driver["pid"], "runs": 2, "new": False}
    assert seen["shuffle_partitions"] == "3" and seen["serializer"] is None
    kryo_again, seen, _, _ = runs.run(CONF, spark_conf=KRYO)
    assert kryo_again.driver == {"pid": kryo.driver["pid"], "runs": 2, "new": False}
    assert seen["serializer"] == KRYO["spark.serializer"] and seen["shuffle_partitions"] == "4"
    pids += [plain.driver["pid"], kryo.driver["pid"]]


@pytest.mark.timeout(600)
def test_a_full_pool_retires_an_idle_driver_for_other_static_settings(tmp_path):
    p = DriverPool(1)
    try:
        runs = Runs(tmp_path, p)
        plain, _, log, _ = runs.run(CONF)
        assert plain.state == "SUCCEEDED", log[-3000:]
        kryo, seen, log, _ = runs.run(CONF, spark_conf=KRYO)
        assert kryo.state == "SUCCEEDED", log[-3000:]
        assert kryo.driver["new"] and seen["serializer"] == KRYO["spark.serializer"]
        assert wait_for(lambda: not group_members(plain.driver["pid"]), 60, "the retired driver to go")
        assert [w["pid"] for w in p.workers()] == [kryo.driver["pid"]]
    finally:
        p.shutdown()
    assert group_members(kryo.driver["pid"]) == []


READ_S3 = '''
import json, os, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
rows = [r.value for r in spark.read.text("s3://bucket/data/").collect()]
spark.createDataFrame([(os.getpid(),)], "pid long").write.json("s3://bucket/out/")
json.dump({"pid": os.getpid(), "rows": rows}, open(sys.argv[1], "w"))
'''


@pytest.mark.timeout(600)
def test_each_run_reads_and_writes_its_own_mirror_on_one_warm_driver(pool, tmp_path):
    """The S3 mirror is a session setting, not the driver's: runs with different mirrors share a warm driver,
    and each one's s3:// paths are its own mirror only."""
    p, pids = pool
    runs = Runs(tmp_path, p)
    mirrors = []
    for n in (1, 2):
        m = tmp_path / f"mirror{n}"
        (m / "bucket" / "data").mkdir(parents=True)
        (m / "bucket" / "data" / "part.txt").write_text(f"object of run {n}\n")
        mirrors.append(m)
    first, seen1, log1, _ = runs.run(READ_S3, mirror=mirrors[0])
    assert first.state == "SUCCEEDED", f"{first.error_message}\n{log1[-3000:]}"
    second, seen2, log2, _ = runs.run(READ_S3, mirror=mirrors[1])
    assert second.state == "SUCCEEDED", f"{second.error_message}\n{log2[-3000:]}"
    pids.append(first.driver["pid"])
    assert second.driver["pid"] == first.driver["pid"] and not second.driver["new"]
    assert seen1["rows"] == ["object of run 1"] and seen2["rows"] == ["object of run 2"]
    for m in mirrors:
        assert list((m / "bucket" / "out").glob("part-*.json")), f"{m}: the run's write landed in its own mirror"


@pytest.mark.timeout(600)
def test_a_prewarmed_driver_serves_the_first_run_and_its_warm_up_leaves_nothing_behind(pool, tmp_path):
    p, pids = pool
    runs = Runs(tmp_path, p)
    build = {"jars": [], "spark_conf": ICEBERG_EXTENSIONS}
    # Two jobs with the same settings learnt at once (one terraform apply): as many drivers as the pool holds.
    assert p.prewarm(build, run_env()) is not None and p.prewarm(build, run_env()) is not None
    warmed = wait_for(lambda: ws if len(ws := p.workers()) == 2 else None, 300, "the second pre-warmed driver")
    pids += [w["pid"] for w in warmed]
    # One after another (2 cores): the second started once the first's warm-up had ended.
    assert (warmed[0]["warm_up"] or {}).get("outcome") == "done", warmed
    assert warmed[0]["runs"] == 0 and warmed[1]["warm_up"] is None

    lib = _zip(tmp_path / "dist" / "lib.zip", {"lib/__init__.py": "VERSION = 'v1'\n"})
    first, seen, log, _ = runs.run(OBSERVE, catalogs=["run2_cat"], py_files=[lib])
    assert first.state == "SUCCEEDED", f"{first.error_message}\n{log[-3000:]}"
    assert first.driver == {"pid": warmed[0]["pid"], "runs": 1, "new": False}
    assert "driver_start_s" not in first.timings
    # Nothing of the warm-up's session: views, tables, settings, its catalog, checkpointed data.
    assert seen["temp_views"] == [] and seen["global_views"] == [] and seen["session_tables"] == []
    assert seen["shuffle_partitions"] == "4" and seen["cached"] is False and seen["persistent_rdds"] == 0
    assert seen["warmup_catalog"] is not None and seen["run2_catalog"] is None
    assert seen["lib_driver"] == "v1" and seen["lib_udf"] == ["v1", "v1"]

    # Other static settings: not the pre-warmed driver, a new one built with them.
    kryo, seen_kryo, log, _ = runs.run(CONF, spark_conf=KRYO)
    assert kryo.state == "SUCCEEDED", log[-3000:]
    assert kryo.driver["new"] and kryo.driver["pid"] not in pids
    assert seen_kryo["serializer"] == KRYO["spark.serializer"]
    pids.append(kryo.driver["pid"])


@pytest.mark.timeout(600)
def test_a_run_that_comes_while_its_driver_warms_up_takes_it_and_interrupts_the_warm_up(pool, tmp_path):
    p, pids = pool
    runs = Runs(tmp_path, p)
    p.prewarm({"jars": [], "spark_conf": ICEBERG_EXTENSIONS}, run_env(), count=1)
    starting = wait_for(p.workers, 60, "the pre-warmed driver to start")
    assert starting[0]["warm_up"] is None  # its JVM is still starting: the run waits for it, starts no other
    lib = _zip(tmp_path / "dist" / "lib.zip", {"lib/__init__.py": "VERSION = 'v1'\n"})
    run, seen, log, _ = runs.run(OBSERVE, catalogs=["run2_cat"], py_files=[lib])
    assert run.state == "SUCCEEDED", f"{run.error_message}\n{log[-3000:]}"
    pids.append(run.driver["pid"])
    assert run.driver == {"pid": starting[0]["pid"], "runs": 1, "new": False}
    [worker] = p.workers()
    assert worker["warm_up"]["outcome"].startswith("interrupted by a run"), worker
    # A warm-up cut short leaves nothing either.
    assert seen["temp_views"] == [] and seen["session_tables"] == [] and seen["persistent_rdds"] == 0
    assert seen["warmup_catalog"] is not None and seen["shuffle_partitions"] == "4" and seen["cached"] is False
