"""A class data sharing (CDS) archive of the local Spark runtime's classes, for every local JVM.

A new Spark JVM spends most of its first seconds loading, parsing and verifying the classes of Spark, Iceberg
and Hadoop. JDK 17 can dump the classes a run loaded into an archive (``-XX:ArchiveClassesAtExit``) that later
JVMs map instead (``-XX:SharedArchiveFile``; https://docs.oracle.com/en/java/javase/17/vm/class-data-sharing.html).
Measured on the project's 2-core machine, a new session plus a small Iceberg create / MERGE / count: 8 s and
14 CPU-s without the archive, 5 s and 9 CPU-s with it. Every local JVM pays that start (the pipeline tests'
session, each warm Glue driver, the Spark side of the end-to-end checks), so the archive is part of the
local runtime. It changes nothing that runs on AWS.

The archive is only valid for the exact JDK and the exact jars (the JVM checks each jar's size and mtime), so
its file name is a hash of those (``key``): when a jar or the JDK changes, no archive matches, the JVMs start
without one (``-Xshare:auto``, no warning) and ``make spark-runtime`` (``ensure``) trains a new one.
Training runs the warm Glue driver's warm-up (localcloud.glue.driver: text read, window, JSON write, Iceberg
create, MERGE, metadata table, view) in a JVM that dumps its classes when it exits.

CLI: ``python -m localcloud.class_archive train OUT`` (what ``ensure`` runs).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ARCHIVE_DIR = "class-archive"
TRAIN_TIMEOUT_S = 600
TRAINER = (sys.executable, "-m", "localcloud.class_archive", "train")  # + the archive to write


def _java_home(java: str) -> Path:
    return Path(os.path.realpath(java)).parent.parent


def key(java: str, classpath: list[Path]) -> str:
    """What the archive depends on: the JDK (its module image and libjvm) and each classpath jar, by path,
    size and mtime (what the JVM itself checks)."""
    home = _java_home(java)
    h = hashlib.sha256()
    for p in [home / "lib" / "modules", home / "lib" / "server" / "libjvm.so", *classpath]:
        st = p.stat()
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def path(runtime_dir: Path, java: str, classpath: list[Path]) -> Path:
    return runtime_dir / ARCHIVE_DIR / f"{key(java, classpath)}.jsa"


def java_options(runtime_dir: Path, java: str, classpath: list[Path]) -> list[str]:
    """The JVM options that map the archive, or none when no archive matches the JDK and jars."""
    archive = path(runtime_dir, java, classpath)
    return [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []


def ensure(runtime_dir: Path, java: str, classpath: list[Path], log, trainer: tuple[str, ...] = TRAINER) -> Path:
    """The archive for this JDK and these jars, trained now (``trainer`` + the file to write) if missing; the
    archives of other JDKs or jars are removed. Raises RuntimeError when training fails or writes nothing."""
    archive = path(runtime_dir, java, classpath)
    if archive.is_file():
        return archive
    archive.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log(f"training the JVM class archive {archive.name} (the warm Glue driver's warm-up)")
    tmp = archive.with_name(f"{archive.name}.{os.getpid()}.tmp")
    proc = subprocess.run([*trainer, str(tmp)],
                          capture_output=True, text=True, check=False, timeout=TRAIN_TIMEOUT_S)
    written = tmp.is_file()
    if proc.returncode != 0 or not written:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"training the class archive failed (exit {proc.returncode}, archive "
                           f"{'written' if written else 'not written'}):\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-6000:]}")
    os.replace(tmp, archive)
    for old in archive.parent.glob("*.jsa"):  # not *.tmp: another build may be training beside this one
        if old != archive:
            old.unlink(missing_ok=True)
    log(f"class archive trained in {time.monotonic() - started:.1f}s "
        f"({archive.stat().st_size // 2**20} MB): {archive}")
    return archive


def train(out: Path) -> None:
    """Run the warm Glue driver's warm-up in a JVM that writes the classes it loaded to ``out`` at exit; returns
    once that JVM has exited (the archive is written by then)."""
    from pyspark import SparkContext

    from localcloud.glue import driver

    scratch = Path(tempfile.mkdtemp(prefix="class-archive-train."))
    root, static_sql_keys, _ = driver.build_root_session(
        {"spark_conf": {"spark.driver.extraJavaOptions": f"-XX:ArchiveClassesAtExit={out}"}}, scratch / "warehouse")
    outcome = driver.warm_up(root, static_sql_keys, threading.Event(), scratch / "warm-up")
    if outcome["outcome"] != "done":
        raise RuntimeError(f"the warm-up did not complete: {outcome}")
    jvm = SparkContext._gateway.proc
    root.stop()
    SparkContext._gateway.shutdown()
    # The JVM exits on EOF on its stdin (PythonGatewayServer) and writes the archive as it exits.
    jvm.stdin.close()
    jvm.wait(timeout=TRAIN_TIMEOUT_S)
    shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "train":
        print("usage: python -m localcloud.class_archive train OUT", file=sys.stderr)
        return 2
    train(Path(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
