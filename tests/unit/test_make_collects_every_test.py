"""`make test` runs every test file under tests/: its pytest runs collect whole directories, and every
directory that holds tests is one of them (a new directory or a hand-kept file list fails here)."""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def pytest_paths(recipes: str) -> set[str]:
    """The tests/ paths given to pytest in the recipes."""
    paths = set()
    for line in recipes.splitlines():
        if "-m pytest" in line:
            paths.update(p.rstrip("/") for p in re.findall(r"(?<!\S)(tests/\S*)", line))
    return paths


def test_every_test_directory_is_collected_whole():
    # make -n prints the recipes `make test` would run without running them (sub-makes are dry runs too).
    recipes = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(REPO), "test"],
                             capture_output=True, text=True, check=True).stdout
    paths = pytest_paths(recipes)
    assert paths, f"no pytest run found in `make -n test`:\n{recipes[-3000:]}"
    listed_files = sorted(p for p in paths if p.endswith(".py"))
    assert not listed_files, f"make targets list test files by hand instead of directories: {listed_files}"
    holding_tests = {"/".join(p.relative_to(REPO).parts[:2]) for p in (REPO / "tests").rglob("test_*.py")}
    assert holding_tests <= paths, f"test directories no make target runs: {sorted(holding_tests - paths)}"


def test_a_directory_left_out_is_detected():
    assert pytest_paths("python -m pytest tests/unit -q\nflock x python -m pytest -m spark tests/pipeline") == {
        "tests/unit", "tests/pipeline"}
