import hashlib
import os
import zipfile

from lakepipe.packaging import lakepipe_entries, pinned, write_zip


def test_zip_is_byte_identical_regardless_of_mtime_and_order(tmp_path):
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "b.py").write_text("B = 1\n")
    (src / "pkg" / "a.py").write_text("A = 1\n")
    first = write_zip(tmp_path / "one.zip", {"pkg/b.py": src / "pkg/b.py", "pkg/a.py": src / "pkg/a.py"})
    os.utime(src / "pkg" / "a.py", (1_900_000_000, 1_900_000_000))
    second = write_zip(tmp_path / "two.zip", {"pkg/a.py": src / "pkg/a.py", "pkg/b.py": src / "pkg/b.py"})
    assert first == second == hashlib.sha256((tmp_path / "one.zip").read_bytes()).hexdigest()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        assert zf.namelist() == ["pkg/a.py", "pkg/b.py"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    (src / "pkg" / "a.py").write_text("A = 2\n")
    assert write_zip(tmp_path / "three.zip", {"pkg/a.py": src / "pkg/a.py"}) != first


def test_package_content_and_pins():
    entries = lakepipe_entries()
    assert "lakepipe/dataset.schema.json" in entries and "lakepipe/spec.py" in entries
    assert "lakepipe/packaging.py" not in entries
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in entries)
    assert pinned("sqlglot").startswith("sqlglot==")
    assert pinned("aws-lambda-powertools").startswith("aws-lambda-powertools==")


def test_glue_bytecode_is_reproducible_and_imported_from_the_zip(tmp_path):
    """Every module of the Glue zip gets a legacy-location .pyc (zipimport reads no __pycache__), byte-identical
    across builds, and Python imports the module from it, with tracebacks naming the zip's source."""
    import subprocess
    import sys

    from lakepipe.packaging import glue_bytecode

    entries = lakepipe_entries()
    first, second = glue_bytecode(entries, tmp_path / "one"), glue_bytecode(entries, tmp_path / "two")
    sources = {n for n in entries if n.endswith(".py")}
    assert set(first) == {n + "c" for n in sources}
    assert {n: p.read_bytes() for n, p in first.items()} == {n: p.read_bytes() for n, p in second.items()}
    zipped = tmp_path / "glue.zip"
    write_zip(zipped, {**entries, **first})
    probe = ("import sys, traceback; sys.path.insert(0, sys.argv[1]); import lakepipe.naming as n; print(n.__file__)\n"
             "try:\n    n.slugify(None)\nexcept Exception:\n    print(traceback.format_exc())")
    out = subprocess.run([sys.executable, "-c", probe, str(zipped)], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == f"{zipped}/lakepipe/naming.pyc"
    assert 'File "lakepipe.zip/lakepipe/naming.py", line' in out
