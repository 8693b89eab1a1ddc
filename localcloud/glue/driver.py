"""The process of one local Glue job run (started by localcloud.glue.runner, never imported by it).

``python -m localcloud.glue.driver <spec.json>``: builds the SparkSession the job will get from
``SparkSession.builder.getOrCreate()``, registers the Glue Data Catalog's Iceberg tables in the
local catalogs, then runs the job script as ``__main__`` with Glue's ``sys.argv``. The outcome goes
to ``spec["result_path"]`` as JSON: ``{"state", "error_message", "timings"}``.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
import traceback
from pathlib import Path

MAX_ERROR_MESSAGE = 2048


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
    text = f"{name}: {msg}" if msg else name
    return text if len(text) <= MAX_ERROR_MESSAGE else text[: MAX_ERROR_MESSAGE - 3] + "..."


def _say(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} localcloud-glue driver: {msg}", file=sys.stderr, flush=True)


def start_session(spec: dict):
    from localcloud import spark_runtime

    extra = dict(spec["spark_conf"])
    extra.update(spark_runtime.s3_mirror_conf(spec["mirror_dir"]))
    if spec.get("jars"):
        extra["spark.jars"] = ",".join(spec["jars"])
    spark = spark_runtime.local_spark_session(spec["app_name"], spec["catalogs"], extra)
    for p in spec.get("py_files", []):
        # addPyFile puts .zip/.egg on sys.path here and ships them to the Python workers, as
        # --extra-py-files (spark.submit.pyFiles) does on Glue; a .py lands in SparkFiles' root dir.
        spark.sparkContext.addPyFile(p)
    return spark


def presync(spark, spec: dict) -> None:
    """Make each re-pointed catalog show what the Glue Data Catalog holds (Glue is the source of truth)."""
    from localcloud.glue.catalog_sync import read_local_catalog

    plan = spec.get("presync")
    if plan is None:  # the runner syncs the catalogs itself (catalog_sync.presync)
        return
    jvm = spark.sparkContext._jvm
    table_id = jvm.org.apache.iceberg.catalog.TableIdentifier
    glue = {(t["database"], t["table"]): t["metadata_location"] for t in plan["tables"]}
    for cat in spec["glue_catalogs"]:
        db_path = Path(spec["catalogs"][cat]) / "catalog.db"
        _, local_namespaces = read_local_catalog(db_path, cat)
        for db in plan["databases"]:
            if db not in local_namespaces:
                spark.sql(f"CREATE NAMESPACE IF NOT EXISTS `{cat}`.`{db}`")
        iceberg = spark._jsparkSession.sessionState().catalogManager().catalog(cat).icebergCatalog()
        local_tables, _ = read_local_catalog(db_path, cat)
        local = {(t.namespace, t.name): t.metadata_location for t in local_tables}
        for (db, name), loc in sorted(glue.items()):
            if local.get((db, name)) == loc:
                continue
            ident = table_id.parse(f"{db}.{name}")
            if (db, name) in local:
                iceberg.dropTable(ident, False)  # purge=False: only the catalog entry goes
            iceberg.registerTable(ident, loc)
            _say(f"registered {cat}.{db}.{name} from Glue -> {loc}")
        for db, name in sorted(set(local) - set(glue)):
            iceberg.dropTable(table_id.parse(f"{db}.{name}"), False)
            _say(f"unregistered {cat}.{db}.{name}: not in the Glue Data Catalog (files kept)")


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


def _hide_editable_installs() -> None:
    """On Glue only --extra-py-files and installed modules are importable, not this repository's
    editable install (which would let a job import lakepipe without its --extra-py-files zip)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]


def run(spec: dict) -> dict:
    result: dict = {"state": "FAILED", "error_message": None, "timings": {}}
    t0 = time.monotonic()
    spark = None
    try:
        spark = start_session(spec)
        result["timings"]["session_s"] = round(time.monotonic() - t0, 2)
        t1 = time.monotonic()
        presync(spark, spec)
        result["timings"]["presync_s"] = round(time.monotonic() - t1, 2)
        if spec.get("s3_journal_path"):
            install_s3_write_through(spec)
        _hide_editable_installs()
        sys.argv = list(spec["argv"])
        script_dir = str(Path(spec["script"]).parent)
        sys.path.insert(0, script_dir)  # as `python script.py` would
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
        if spark is not None:
            try:
                spark.stop()
            except Exception:  # noqa: BLE001
                traceback.print_exc()
    return result


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    result = run(spec)
    tmp = Path(spec["result_path"] + ".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, spec["result_path"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
