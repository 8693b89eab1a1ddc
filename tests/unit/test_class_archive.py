"""localcloud/class_archive.py without a JVM: the archive's key follows the JDK and every jar (what the JVM
checks), a JVM gets the archive option only when an archive matches, and training failures are loud.
That Spark really maps the archive is tests/localcloud/test_spark_runtime.py's."""

import os
import sys
from pathlib import Path

import pytest

from localcloud import class_archive


@pytest.fixture
def jdk_and_jars(tmp_path) -> tuple[str, list[Path]]:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "lib" / "server").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "lib" / "modules").write_bytes(b"modules")
    (home / "lib" / "server" / "libjvm.so").write_bytes(b"jvm")
    jars = []
    for name in ("iceberg.jar", "spark-core.jar"):
        jars.append(tmp_path / name)
        jars[-1].write_bytes(b"PK" + name.encode())
    link = tmp_path / "java-on-path"
    link.symlink_to(home / "bin" / "java")  # as /usr/bin/java -> /etc/alternatives -> the JDK
    return str(link), jars


def test_the_key_changes_with_the_jdk_or_any_jar_and_only_then(jdk_and_jars, tmp_path):
    java, jars = jdk_and_jars
    first = class_archive.key(java, jars)
    assert class_archive.key(java, jars) == first
    st = jars[1].stat()
    os.utime(jars[1], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a jar rebuilt: new mtime
    second = class_archive.key(java, jars)
    assert second != first
    jars[0].write_bytes(jars[0].read_bytes() + b"x")  # a jar of another size
    third = class_archive.key(java, jars)
    assert third != second
    modules = tmp_path / "jdk" / "lib" / "modules"
    st = modules.stat()
    os.utime(modules, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # the JDK updated
    assert class_archive.key(java, jars) != third
    assert class_archive.key(java, jars[:1]) != class_archive.key(java, jars)  # a jar fewer


def test_a_jvm_maps_the_archive_only_when_one_matches(jdk_and_jars, tmp_path):
    java, jars = jdk_and_jars
    runtime = tmp_path / "runtime"
    assert class_archive.java_options(runtime, java, jars) == []
    archive = class_archive.path(runtime, java, jars)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"archive")
    assert class_archive.java_options(runtime, java, jars) == [f"-XX:SharedArchiveFile={archive}"]
    jars[0].write_bytes(b"changed")
    assert class_archive.java_options(runtime, java, jars) == []  # a stale archive is never offered


def writer(body: str) -> tuple[str, ...]:
    """A trainer: python running `body` with the archive's path in `out`."""
    return (sys.executable, "-c", f"import sys; out = sys.argv[1]; {body}")


def test_training_writes_the_archive_once_and_removes_stale_ones(jdk_and_jars, tmp_path):
    java, jars = jdk_and_jars
    runtime = tmp_path / "runtime"
    stale = runtime / class_archive.ARCHIVE_DIR / "0123.jsa"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    logged = []
    archive = class_archive.ensure(runtime, java, jars, logged.append, writer("open(out, 'wb').write(b'new')"))
    assert archive == class_archive.path(runtime, java, jars) and archive.read_bytes() == b"new"
    assert sorted(p.name for p in archive.parent.iterdir()) == [archive.name]
    assert any("trained" in line for line in logged)
    # Present: nothing is trained (this trainer would fail).
    assert class_archive.ensure(runtime, java, jars, logged.append, writer("sys.exit(3)")) == archive


def test_a_failed_training_is_an_error_and_leaves_no_archive(jdk_and_jars, tmp_path):
    java, jars = jdk_and_jars
    runtime = tmp_path / "runtime"
    with pytest.raises(RuntimeError, match=r"exit 3, archive not written[\s\S]*no JVM here"):
        class_archive.ensure(runtime, java, jars, print, writer("print('no JVM here', file=sys.stderr); sys.exit(3)"))
    # Exit 0 without writing the archive is a failure too.
    with pytest.raises(RuntimeError, match="exit 0, archive not written"):
        class_archive.ensure(runtime, java, jars, print, writer("pass"))
    # A trainer that fails after writing part of it leaves nothing behind.
    with pytest.raises(RuntimeError, match="exit 1, archive written"):
        class_archive.ensure(runtime, java, jars, print, writer("open(out, 'wb').write(b'half'); sys.exit(1)"))
    assert list((runtime / class_archive.ARCHIVE_DIR).iterdir()) == []
    assert class_archive.java_options(runtime, java, jars) == []
