"""Ordering of the local root (issue 9, item 1): the local endpoint is a fresh account whose Lake
Formation defaults grant IAM_ALLOWED_PRINCIPALS, so environments/local must write the account settings
(modules/lakeformation_account) before anything of the stack exists. A database created first would
inherit those defaults, and every table in it would refuse multi-dialect views.

`terraform graph -type=plan` of the real root (provider from the project's mirror, state and data dir
in tmp) must show a dependency path from every resource of the stack to the settings resource, and
from the catalog's settings check to the settings resource (so the check reads what was just written).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCAL_ROOT = REPO / "terraform" / "environments" / "local"
SETTINGS = "module.lakeformation_account.aws_lakeformation_data_lake_settings.this"
EDGE = re.compile(r'^\s*"\[root\] ([^"]+?)(?: \((?:expand|close|validation)\))?" -> "\[root\] ([^"]+?)(?: \((?:expand|close|validation)\))?"')
NODE = re.compile(r'^\s*"\[root\] ([^"]+?) \(expand\)" \[label')


@pytest.fixture(scope="module")
def graph(tmp_path_factory) -> tuple[set[str], dict[str, set[str]]]:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH")
    tmp = tmp_path_factory.mktemp("tf-local-graph")
    cli = tmp / "cli.tfrc"
    subprocess.run([str(REPO / "tools" / "terraform" / "write-cli-config.sh"), str(cli)], check=True,
                   capture_output=True, text=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TF_CLI_CONFIG_FILE=str(cli), TF_DATA_DIR=str(tmp / "data"), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")

    def tf(*args: str) -> str:
        proc = subprocess.run(["terraform", f"-chdir={LOCAL_ROOT}", *args, "-no-color"], env=env,
                              capture_output=True, text=True, check=False, timeout=600)
        assert proc.returncode == 0, f"terraform {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc.stdout

    tf("init", "-input=false", "-reconfigure", f"-backend-config=path={tmp / 'terraform.tfstate'}")
    nodes: set[str] = set()
    deps: dict[str, set[str]] = defaultdict(set)
    for line in tf("graph", "-type=plan").splitlines():
        if m := NODE.match(line):
            nodes.add(m[1])
        elif m := EDGE.match(line):
            deps[m[1]].add(m[2])
    return nodes, deps


def _reaches(deps: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(deps.get(node, ()))
    return False


def test_every_stack_resource_waits_for_the_lake_formation_settings(graph):
    nodes, deps = graph
    assert SETTINGS in nodes
    stack = sorted(n for n in nodes if n.startswith("module.stack.") and re.search(r"(^|\.)(aws_[a-z0-9_]+)\.[^.]+$", n)
                   and ".data." not in n)
    glue_objects = [n for n in stack if re.search(r"\.(aws_glue_catalog_database|aws_lakeformation_[a-z_]+|aws_glue_job)\.", n)]
    assert len(glue_objects) >= 5, glue_objects  # databases, registration, grants, both... jobs
    early = [n for n in stack if not _reaches(deps, n, SETTINGS)]
    assert not early, f"created without waiting for {SETTINGS}: {early}"


def test_the_catalog_checks_the_settings_it_was_given(graph):
    nodes, deps = graph
    check = "module.stack.module.catalog.data.aws_lakeformation_data_lake_settings.current"
    assert check in nodes and _reaches(deps, check, SETTINGS)
    assert _reaches(deps, "module.stack.module.catalog.aws_glue_catalog_database.this", check)
