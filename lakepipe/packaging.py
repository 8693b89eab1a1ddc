"""Build the deployable zips reproducibly (`make package`).

- build/glue/lakepipe.zip: lakepipe + the dataset schema + vendored sqlglot (pure Python),
  for the Glue jobs' --extra-py-files.
- build/lambda/lakepipe_lambda.zip: s3_trigger/ and run_recorder/ at the root (handlers
  `s3_trigger.handler.lambda_handler`, `run_recorder.handler.lambda_handler`), lakepipe, and
  aws-lambda-powertools with its dependencies.

Reproducible: entries sorted, fixed timestamps (1980-01-01) and permissions, so the same sources
and pins give byte-identical zips (stable content hashes for Terraform). The Glue zip also carries
bytecode (`glue_bytecode`): compiled by this interpreter (Python 3.11, Glue 5.0's) in a fresh process with
a fixed hash seed and unchecked-hash .pyc files, so it is reproducible too.
Pins come from pyproject.toml, the single place they are declared.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXCLUDE_DIRS = {"__pycache__", "bin"}
EXCLUDE_SUFFIXES = (".pyc", ".pyo")
EXCLUDE_FROM_LAKEPIPE = {"packaging.py", "README.md"}


def pinned(requirement_prefix: str) -> str:
    """The pinned requirement from pyproject.toml, e.g. 'sqlglot==30.30.0'."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        reqs += extra
    for r in reqs:
        if re.match(rf"^{re.escape(requirement_prefix)}\s*==", r):
            return r
    raise SystemExit(f"no pinned requirement {requirement_prefix}== in pyproject.toml")


def _files(base: Path) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(base.rglob("*")):
        rel = p.relative_to(base)
        if p.is_dir() or any(part in EXCLUDE_DIRS for part in rel.parts) or p.name.endswith(EXCLUDE_SUFFIXES):
            continue
        out.append((rel.as_posix(), p))
    return out


def write_zip(out: Path, entries: dict[str, Path]) -> str:
    """Deterministic zip of {archive name: file}; returns its sha256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.create_system = 3  # unix, so the permissions above are honoured everywhere
            zf.writestr(info, entries[name].read_bytes(), compresslevel=9)
    tmp.replace(out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def lakepipe_entries() -> dict[str, Path]:
    entries = {f"lakepipe/{rel}": p for rel, p in _files(ROOT / "lakepipe") if rel not in EXCLUDE_FROM_LAKEPIPE}
    # spec.py looks for the schema next to itself inside the zip
    entries["lakepipe/dataset.schema.json"] = ROOT / "datasets" / "dataset.schema.json"
    return entries


GLUE_PYTHON = (3, 11)  # Glue 5.0


def glue_bytecode(entries: dict[str, Path], work: Path) -> dict[str, Path]:
    """`x.pyc` beside every `x.py` of the Glue zip. Python imports --extra-py-files through zipimport, which
    compiles every module's source on each job start unless the zip holds a .pyc in the legacy location (it
    reads no __pycache__): sqlglot's ~2 MB took 0.6 s per run, 0.1 s from bytecode (README "Glue settings").
    A .pyc of another Python version is skipped by zipimport (bad magic), which then compiles the source."""
    if sys.version_info[:2] != GLUE_PYTHON:
        raise SystemExit(f"the Glue zip's bytecode is for Python {GLUE_PYTHON[0]}.{GLUE_PYTHON[1]} (Glue 5.0); "
                         f"this is {sys.version_info[0]}.{sys.version_info[1]}")
    src = work / "src"
    for name, path in entries.items():
        if name.endswith(".py"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(path.read_bytes())
    # A fresh interpreter with a fixed hash seed: set and frozenset constants marshal in a stable order.
    # ddir: the file names compiled into the code are the zip's, not this temporary directory's.
    compile_all = ("import compileall, py_compile, sys; sys.exit(not compileall.compile_dir(sys.argv[1], "
                   "ddir='lakepipe.zip', quiet=1, legacy=True, "
                   "invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH))")
    subprocess.run([sys.executable, "-c", compile_all, str(src)], check=True,
                   env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"})
    return {p.relative_to(src).as_posix(): p for p in sorted(src.rglob("*.pyc"))}


def pip_target(requirements: list[str], target: Path, no_deps: bool) -> dict[str, Path]:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check",
           "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
           "--platform", "manylinux2014_x86_64", "--target", str(target), *requirements]
    if no_deps:
        cmd.insert(4, "--no-deps")
    subprocess.run(cmd, check=True)
    return {rel: p for rel, p in _files(target)}


def build(build_dir: Path) -> dict[str, str]:
    hashes = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        glue = dict(lakepipe_entries())
        vendored = pip_target([pinned("sqlglot")], tmp / "glue", no_deps=True)
        bad = [n for n in vendored if n.endswith((".so", ".pyd"))]
        if bad:
            raise SystemExit(f"sqlglot must be pure Python for Glue; found compiled files {bad}")
        glue.update(vendored)
        glue.update(glue_bytecode(glue, tmp / "bytecode"))
        hashes["glue/lakepipe.zip"] = write_zip(build_dir / "glue" / "lakepipe.zip", glue)

        lam = dict(lakepipe_entries())
        for handler in ("s3_trigger", "run_recorder"):
            lam.update({f"{handler}/{rel}": p for rel, p in _files(ROOT / "lambdas" / handler)})
        lam.update(pip_target([pinned("aws-lambda-powertools")], tmp / "lambda", no_deps=False))
        hashes["lambda/lakepipe_lambda.zip"] = write_zip(build_dir / "lambda" / "lakepipe_lambda.zip", lam)
    return hashes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=ROOT / "build")
    args = ap.parse_args(argv)
    for name, digest in build(args.build.resolve()).items():
        print(f"{digest}  {args.build / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
