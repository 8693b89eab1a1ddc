"""Local Spark + Apache Iceberg runtime, built from PyPI and Debian pieces only.

Maven Central is unreachable on the project's machines, so ``spark.jars.packages`` cannot resolve
Iceberg. What exists:

* PyPI ``snowpark-connect-deps-iceberg==1.0.3`` carries ``iceberg-spark-runtime-3.5_2.12-1.10.2.jar``,
  but that copy lacks the classes it shades into ``org.apache.iceberg.shaded.*`` for Jackson and
  Apache httpclient5 (the first CREATE TABLE fails with NoClassDefFoundError JsonFactoryBuilder).
* PyPI ``snowpark-connect-deps-2==3.56.7`` carries Jackson 2.18.8 (core, databind, annotations);
  pyspark 3.5.4 carries jackson-datatype-jsr310; Debian 12 carries httpclient5/httpcore5 5.2.1 and
  the SQLite JDBC driver (3.40.1.0, with its JNI library in a separate package).

``build()`` relocates Jackson and httpclient5 into the package names the Iceberg jar expects (a tiny
Java program, ``localcloud/java/Relocate.java``, using the ASM copy inside JDK 17) and compiles the
S3-to-local-mirror Hadoop FileSystem used by the Glue runner and the SQLite JDBC wrapper of the local
Iceberg catalogs (``localcloud/java/localcloud``). Everything lands in
``.cache/spark-runtime/`` with a stamp; a second build with the same recipe does nothing but
train the JVM class archive when none matches the JDK and jars (``localcloud/class_archive.py``).

CLI: ``python -m localcloud.spark_runtime build`` (what ``make spark-runtime`` runs) and
``python -m localcloud.spark_runtime jars``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from localcloud import class_archive

if TYPE_CHECKING:  # pyspark is imported lazily: building the runtime must not start a JVM
    from pyspark.sql import SparkSession

REPO_ROOT = Path(__file__).resolve().parents[1]
JAVA_SRC = Path(__file__).resolve().parent / "java"

ICEBERG_VERSION = "1.10.2"
ICEBERG_RUNTIME_JAR = f"iceberg-spark-runtime-3.5_2.12-{ICEBERG_VERSION}.jar"
JACKSON_JARS = ("jackson-core-2.18.8.jar", "jackson-databind-2.18.8.jar", "jackson-annotations-2.18.8.jar")
JSR310_JAR = "jackson-datatype-jsr310-2.15.2.jar"  # inside pyspark 3.5.4; only Arrow's reader uses it
HADOOP_API_JARS = ("hadoop-client-api-3.3.4.jar", "hadoop-client-runtime-3.3.4.jar")
# Debian 12 (bookworm) packages and the files taken from them. Debian pins the versions per release:
# libxerial-sqlite-jdbc-java 3.40.1.0, libhttpclient5-java / libhttpcore5-java 5.2.1.
APT_PACKAGES = (
    "libxerial-sqlite-jdbc-java",
    "libxerial-sqlite-jdbc-jni",
    "libhttpclient5-java",
    "libhttpcore5-java",
)
SQLITE_JDBC_JAR = Path("/usr/share/java/sqlite-jdbc.jar")
SQLITE_JNI_LIB = Path("/usr/lib/x86_64-linux-gnu/jni/libsqlitejdbc.so")
HTTPCLIENT5_JARS = (Path("/usr/share/java/httpclient5.jar"), Path("/usr/share/java/httpcore5.jar"),
                    Path("/usr/share/java/httpcore5-h2.jar"))
SHADED = "org.apache.iceberg.shaded"
RELOCATIONS = (f"com.fasterxml.jackson={SHADED}.com.fasterxml.jackson,"
               f"org.apache.hc={SHADED}.org.apache.hc")
ASM_EXPORTS = ("--add-exports", "java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED",
               "--add-exports", "java.base/jdk.internal.org.objectweb.asm.commons=ALL-UNNAMED")
# Bump when the recipe changes in a way the hashed inputs below do not show.
RECIPE = 2

# Output file names inside the runtime dir, in classpath order.
OUT_ICEBERG = ICEBERG_RUNTIME_JAR
OUT_SHADED = "iceberg-shaded-deps-jackson-2.18.8-httpclient5-5.2.1.jar"
OUT_SQLITE = "sqlite-jdbc-3.40.1.0.jar"
OUT_S3_MIRROR = "localcloud-s3-mirror.jar"
OUT_NATIVE_DIR = "native"
OUT_LOG4J = "log4j2.properties"
STAMP = "stamp.json"

S3_MIRROR_FS_CLASS = "localcloud.s3.MirrorFileSystem"
SQLITE_DRIVER_CLASS = "localcloud.jdbc.SqliteSerializingDriver"
S3_MIRROR_KEY = "fs.localcloud.s3.mirror"

LOG4J2 = """\
# Quiet local Spark: warnings and errors only, and none of the start-up chatter.
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n%ex
logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecode.level = error
logger.hostname.name = org.apache.spark.util.Utils
logger.hostname.level = error
logger.sparkenv.name = org.apache.spark.SparkEnv
logger.sparkenv.level = error
logger.metrics.name = org.apache.hadoop.metrics2
logger.metrics.level = error
logger.iceberg_hadoop_metrics.name = org.apache.iceberg.hadoop.HadoopTableOperations
logger.iceberg_hadoop_metrics.level = error
# SQLite has no JDBC isolation levels etc.; Iceberg's JDBC catalog logs harmless warnings about them.
logger.iceberg_jdbc.name = org.apache.iceberg.jdbc
logger.iceberg_jdbc.level = error
"""


class SparkRuntimeError(RuntimeError):
    pass


def runtime_dir() -> Path:
    """Where the built runtime lives (``LAKEPIPE_SPARK_RUNTIME_DIR`` overrides ``.cache/spark-runtime``)."""
    env = os.environ.get("LAKEPIPE_SPARK_RUNTIME_DIR")
    return Path(env).resolve() if env else REPO_ROOT / ".cache" / "spark-runtime"


def _log(msg: str) -> None:
    print(f"spark-runtime: {msg}", file=sys.stderr, flush=True)


def _pkg_jars_dir(module: str) -> Path:
    try:
        mod = __import__(module)
    except ImportError as e:
        raise SparkRuntimeError(f"Python package {module} is missing; run `make venv` ({e})") from e
    return Path(mod.__file__).parent / "jars"


def _pyspark_jars_dir() -> Path:
    try:
        import pyspark
    except ImportError as e:
        raise SparkRuntimeError(f"pyspark is missing; run `make venv` ({e})") from e
    return Path(pyspark.__file__).parent / "jars"


def _inputs() -> dict[str, Path]:
    iceberg = _pkg_jars_dir("snowpark_connect_deps_iceberg")
    deps2 = _pkg_jars_dir("snowpark_connect_deps_2")
    pyspark_jars = _pyspark_jars_dir()
    paths = {"iceberg": iceberg / ICEBERG_RUNTIME_JAR}
    for j in JACKSON_JARS:
        paths[j] = deps2 / j
    paths[JSR310_JAR] = pyspark_jars / JSR310_JAR
    for j in HADOOP_API_JARS:
        paths[j] = pyspark_jars / j
    for p in HTTPCLIENT5_JARS:
        paths[p.name] = p
    paths["sqlite-jdbc"] = SQLITE_JDBC_JAR
    paths["sqlite-jni"] = SQLITE_JNI_LIB
    return paths


def _recipe_hash() -> str:
    h = hashlib.sha256(f"recipe={RECIPE};{RELOCATIONS};{ICEBERG_RUNTIME_JAR};{JACKSON_JARS};{LOG4J2}".encode())
    for src in sorted(JAVA_SRC.rglob("*.java")):
        h.update(src.relative_to(JAVA_SRC).as_posix().encode())
        h.update(src.read_bytes())
    return h.hexdigest()


def _read_stamp(rdir: Path) -> dict | None:
    try:
        stamp = json.loads((rdir / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("recipe") != _recipe_hash():
        return None
    if not all((rdir / f).exists() for f in stamp.get("files", [])):
        return None
    return stamp


def ensure_apt_packages() -> None:
    """Install the Debian packages the runtime takes files from (needs root, like any apt-get)."""
    if SQLITE_JDBC_JAR.exists() and SQLITE_JNI_LIB.exists() and all(p.exists() for p in HTTPCLIENT5_JARS):
        return
    if shutil.which("apt-get") is None:
        raise SparkRuntimeError(f"apt-get not found: install the Debian packages {' '.join(APT_PACKAGES)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    _log("installing " + " ".join(APT_PACKAGES))
    if subprocess.run(cmd, check=False, env=env).returncode != 0:
        # A fresh machine has no package lists yet; `apt-get update` once, then retry.
        _log("apt-get install failed; running apt-get update and retrying")
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(cmd, env=env, check=True)
    missing = [p for p in (SQLITE_JDBC_JAR, SQLITE_JNI_LIB, *HTTPCLIENT5_JARS) if not p.exists()]
    if missing:
        raise SparkRuntimeError(f"after apt-get install these files are still missing: {missing}")


def _tool(name: str) -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / name).exists():
        return str(Path(java_home) / "bin" / name)
    found = shutil.which(name)
    if not found:
        raise SparkRuntimeError(f"{name} not found: a JDK 17 (not just a JRE) is needed, e.g. openjdk-17-jdk-headless")
    return found


def java() -> str:
    """The java that spark-submit starts (JAVA_HOME's, else the one on PATH)."""
    return _tool("java")


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SparkRuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")


def _zip_dir(src: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: localcloud\n\n")
        for f in sorted(q for q in src.rglob("*") if q.is_file()):
            z.write(f, f.relative_to(src).as_posix())


def build(force: bool = False) -> Path:
    """Build the runtime into runtime_dir(); a no-op when its stamp matches the recipe."""
    rdir = runtime_dir()
    if not force and _read_stamp(rdir) is not None:
        _log(f"up to date in {rdir}")
        _ensure_class_archive(rdir)
        return rdir
    started = time.monotonic()
    ensure_apt_packages()
    inputs = _inputs()
    missing = [str(p) for p in inputs.values() if not p.exists()]
    if missing:
        raise SparkRuntimeError(f"inputs missing (run `make venv`?): {missing}")
    javac, java_bin = _tool("javac"), java()
    rdir.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target and swap it in at the end, so an interrupted build leaves no half runtime.
    work = Path(tempfile.mkdtemp(prefix="spark-runtime.", dir=rdir.parent))
    try:
        out = work / "runtime"
        (out / OUT_NATIVE_DIR).mkdir(parents=True)
        classes = work / "classes"
        _log("compiling Relocate.java (JDK-internal ASM)")
        _run([javac, "-nowarn", *ASM_EXPORTS, "-d", str(classes / "relocate"), str(JAVA_SRC / "Relocate.java")])
        _log(f"relocating Jackson 2.18.8 and httpclient5 5.2.1 into {SHADED}")
        shaded_inputs = [inputs[j] for j in JACKSON_JARS] + [inputs[JSR310_JAR]] + list(HTTPCLIENT5_JARS)
        _run([java_bin, *ASM_EXPORTS, "-cp", str(classes / "relocate"), "Relocate", str(out / OUT_SHADED),
              RELOCATIONS, *map(str, shaded_inputs)])
        _log("compiling the s3:// mirror FileSystem against pyspark's Hadoop 3.3.4")
        fs_src = sorted(str(p) for p in (JAVA_SRC / "localcloud").rglob("*.java"))
        cp = os.pathsep.join(str(inputs[j]) for j in HADOOP_API_JARS)
        _run([javac, "-nowarn", "--release", "17", "-cp", cp, "-d", str(classes / "fs"), *fs_src])
        # DriverManager finds the catalogs' SQLite wrapper (jdbc:localcloud-sqlite:) through this service entry.
        services = classes / "fs" / "META-INF" / "services"
        services.mkdir(parents=True)
        (services / "java.sql.Driver").write_text(f"{SQLITE_DRIVER_CLASS}\n")
        _zip_dir(classes / "fs", out / OUT_S3_MIRROR)
        # Copies, not links: the runtime must survive a re-created .venv and does not depend on
        # pip's layout at run time.
        shutil.copy2(inputs["iceberg"], out / OUT_ICEBERG)
        shutil.copy2(SQLITE_JDBC_JAR, out / OUT_SQLITE)
        shutil.copy2(SQLITE_JNI_LIB, out / OUT_NATIVE_DIR / SQLITE_JNI_LIB.name)
        (out / OUT_LOG4J).write_text(LOG4J2)
        files = [OUT_ICEBERG, OUT_SHADED, OUT_SQLITE, OUT_S3_MIRROR, f"{OUT_NATIVE_DIR}/{SQLITE_JNI_LIB.name}",
                 OUT_LOG4J]
        stamp = {
            "recipe": _recipe_hash(),
            "iceberg": ICEBERG_VERSION,
            "jars": [OUT_ICEBERG, OUT_SHADED, OUT_SQLITE, OUT_S3_MIRROR],
            "files": files,
            "built_seconds": round(time.monotonic() - started, 1),
        }
        (out / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        old = None
        if rdir.exists():
            old = work / "old"
            rdir.rename(old)
        out.rename(rdir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _log(f"built in {time.monotonic() - started:.1f}s into {rdir}")
    _ensure_class_archive(rdir)
    return rdir


def _ensure_class_archive(rdir: Path) -> None:
    try:
        class_archive.ensure(rdir, java(), classpath(), _log)
    except RuntimeError as e:
        raise SparkRuntimeError(str(e)) from e


def _stamp_or_fail() -> tuple[Path, dict]:
    rdir = runtime_dir()
    stamp = _read_stamp(rdir)
    if stamp is None:
        raise SparkRuntimeError(f"the local Spark runtime is missing or stale in {rdir}: run `make spark-runtime`")
    return rdir, stamp


def jars() -> list[Path]:
    """The runtime's jars, in classpath order (raises SparkRuntimeError if not built)."""
    rdir, stamp = _stamp_or_fail()
    return [rdir / j for j in stamp["jars"]]


def classpath() -> list[Path]:
    """Every jar on a local Spark JVM's class path: the runtime's (spark.driver.extraClassPath, first), then
    pyspark's."""
    return jars() + sorted(_pyspark_jars_dir().glob("*.jar"))


def base_conf(app_name: str) -> dict[str, str]:
    """Spark conf for a small local session with the Iceberg runtime (no catalogs)."""
    rdir, _ = _stamp_or_fail()
    extra_classpath = os.pathsep.join(str(j) for j in jars())
    java_opts = " ".join([
        # The Debian SQLite JDBC jar carries no native library; point it at the JNI lib from Debian.
        f"-Dorg.sqlite.lib.path={rdir / OUT_NATIVE_DIR}",
        f"-Dorg.sqlite.lib.name={SQLITE_JNI_LIB.name}",
        f"-Dlog4j2.configurationFile=file:{rdir / OUT_LOG4J}",
        # Spark's, Iceberg's and Hadoop's classes mapped from a class archive (localcloud/class_archive.py).
        *class_archive.java_options(rdir, java(), classpath()),
    ])
    return {
        "spark.app.name": app_name,
        "spark.master": "local[2]",
        # extraClassPath, not spark.jars: the JDBC DriverManager must see the SQLite driver from
        # Iceberg's classloader, and local mode runs executors inside the driver JVM.
        "spark.driver.extraClassPath": extra_classpath,
        "spark.driver.extraJavaOptions": java_opts,
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "2g",
        "spark.sql.session.timeZone": "UTC",
        # Loopback only: without these the driver's RPC and block manager bind the host address.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        # Keep Spark's own spark-warehouse/ out of the caller's working directory.
        "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "lakepipe-spark-warehouse"),
    }


def catalog_conf(name: str, state_dir: str | os.PathLike) -> dict[str, str]:
    """An Iceberg JDBC catalog on SQLite in state_dir (catalog.db + warehouse/), supporting views."""
    d = Path(state_dir).resolve()
    (d / "warehouse").mkdir(parents=True, exist_ok=True)
    p = f"spark.sql.catalog.{name}"
    return {
        p: "org.apache.iceberg.spark.SparkCatalog",
        f"{p}.type": "jdbc",
        # SQLite through localcloud.jdbc.SqliteSerializingDriver: a commit that meets another driver's write
        # is retried on a fresh snapshot instead of failing (see the class).
        f"{p}.uri": f"jdbc:localcloud-sqlite:{d / 'catalog.db'}",
        # V1 adds the view columns to Iceberg's catalog tables (V0 supports tables only).
        f"{p}.jdbc.schema-version": "V1",
        # Several drivers (overlapping Glue runs) and the runner's catalog sync share the file: with WAL,
        # readers never block a commit; a writer waits for another writer instead of failing at once
        # (sqlite-jdbc's default wait is 3 s). Both reach the SQLite driver as connection properties.
        f"{p}.jdbc.journal_mode": "WAL",
        f"{p}.jdbc.busy_timeout": "60000",
        # Iceberg's multi-statement commits (create: check, then insert) take the write lock when they begin,
        # so another driver's write cannot invalidate their read snapshot half way (SQLITE_BUSY_SNAPSHOT).
        f"{p}.jdbc.transaction_mode": "IMMEDIATE",
        f"{p}.warehouse": f"file://{d / 'warehouse'}",
    }


def s3_mirror_conf(mirror_dir: str | os.PathLike | None) -> dict[str, str]:
    """Make s3://, s3a:// and s3n:// paths read and write <mirror_dir>/<bucket>/<key>. Without mirror_dir
    the FileSystem is installed but each session must set S3_MIRROR_KEY (a warm Glue driver's runs)."""
    conf = {f"spark.hadoop.{S3_MIRROR_KEY}": str(Path(mirror_dir).resolve())} if mirror_dir else {}
    for scheme in ("s3", "s3a", "s3n"):
        conf[f"spark.hadoop.fs.{scheme}.impl"] = S3_MIRROR_FS_CLASS
        # One instance per bucket is cached by Hadoop; never cache across runs with another mirror.
        conf[f"spark.hadoop.fs.{scheme}.impl.disable.cache"] = "true"
    return conf


_MERGED_KEYS = ("spark.driver.extraJavaOptions", "spark.driver.extraClassPath")


def session_conf(app_name: str, catalogs: dict[str, str], extra_conf: dict | None = None) -> dict[str, str]:
    conf = base_conf(app_name)
    for name, state in catalogs.items():
        conf.update(catalog_conf(name, state))
    for k, v in (extra_conf or {}).items():
        if k in _MERGED_KEYS and k in conf:
            sep = " " if k.endswith("JavaOptions") else os.pathsep
            conf[k] = f"{conf[k]}{sep}{v}"
        elif k == "spark.sql.extensions" and k in conf:
            have = conf[k].split(",")
            conf[k] = ",".join(have + [e for e in str(v).split(",") if e and e not in have])
        else:
            conf[k] = str(v)
    return conf


def local_spark_session(app_name: str, catalogs: dict[str, str], extra_conf: dict | None = None) -> SparkSession:
    """A local[2] SparkSession whose catalogs are Iceberg JDBC/SQLite catalogs.

    catalogs maps a Spark catalog name to a local state dir (``<dir>/catalog.db`` holds the catalog,
    ``<dir>/warehouse`` the data and metadata). JVM-level settings (class path, Java options) take
    effect only when this starts the JVM; catalogs added to an existing session are applied to it.
    """
    from pyspark.sql import SparkSession

    conf = session_conf(app_name, catalogs, extra_conf)
    builder = SparkSession.builder
    for k, v in conf.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    # getOrCreate() on a running session only copies options it did not have; catalogs are runtime
    # SQL conf, so set them explicitly to make a second call with other catalogs work.
    for k, v in conf.items():
        if k.startswith("spark.sql.catalog."):
            spark.conf.set(k, v)
    return spark


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m localcloud.spark_runtime", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build .cache/spark-runtime (no-op when up to date)")
    b.add_argument("--force", action="store_true")
    sub.add_parser("jars", help="print the runtime jars, one a line")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            build(force=args.force)
        else:
            print("\n".join(str(j) for j in jars()))
    except SparkRuntimeError as e:
        print(f"spark-runtime: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
