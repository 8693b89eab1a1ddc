"""The built zips (make package) import and run in a clean interpreter, as Glue and Lambda load them."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GLUE_ZIP = ROOT / "build/glue/lakepipe.zip"
LAMBDA_ZIP = ROOT / "build/lambda/lakepipe_lambda.zip"


def run_isolated(zip_path: Path, code: str) -> str:
    # -I: no user site, no cwd on sys.path, no PYTHON* env. The venv's editable install of
    # lakepipe is removed from the import system, so only the zip can provide it (asserted).
    prelude = (
        "import sys;"
        "[sys.meta_path.remove(f) for f in list(sys.meta_path) if 'editable' in type(f).__module__.lower()];"
        f"sys.path.insert(0, {str(zip_path)!r});"
    )
    out = subprocess.run([sys.executable, "-I", "-c", prelude + code], capture_output=True, text=True, cwd="/", check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_glue_zip_has_lakepipe_and_pure_python_sqlglot():
    names = zipfile.ZipFile(GLUE_ZIP).namelist()
    assert "lakepipe/ingest.py" in names and "sqlglot/__init__.py" in names
    assert not [n for n in names if n.endswith(".so")]
    out = run_isolated(GLUE_ZIP, (
        "import lakepipe.spec, lakepipe.viewsql, sqlglot;"
        "assert '.zip' in lakepipe.spec.__file__ and '.zip' in sqlglot.__file__, (lakepipe.spec.__file__, sqlglot.__file__);"
        "s = lakepipe.spec.parse_spec({'name': 'x', 'raw_prefix': 'x/', 'target': 'glue', 'database': 'd', 'table': 't'});"
        "print(lakepipe.viewsql.build_view(s, 'v', ['k'], 'x_v').trino_sql())"
    ))
    assert 'FROM "d"."t"' in out


def test_lambda_zip_handlers_import_from_the_zip_root():
    names = zipfile.ZipFile(LAMBDA_ZIP).namelist()
    for n in ("s3_trigger/handler.py", "s3_trigger/__init__.py", "run_recorder/handler.py", "run_recorder/__init__.py",
              "lakepipe/events.py", "aws_lambda_powertools/__init__.py"):
        assert n in names, n
    out = run_isolated(LAMBDA_ZIP, (
        "import os, json; os.environ['AWS_DEFAULT_REGION'] = 'us-east-1';"
        "import s3_trigger.handler as t, run_recorder.handler as r, aws_lambda_powertools, lakepipe.events as e;"
        "assert all('.zip' in m.__file__ for m in (t, r, aws_lambda_powertools, e));"
        "print(json.dumps([callable(t.lambda_handler), callable(r.lambda_handler)]))"
    ))
    assert json.loads(out.strip().splitlines()[-1]) == [True, True]
