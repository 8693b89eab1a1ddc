"""tools/terraform/plan-snapshot.py, the plan-equivalence check of `make tf-check`: it fails on any changed
attribute or address, and accepts a changed address only where a `moved` block of the planned
configuration (in whichever module declares it) moves the snapshot's resource there."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("plan_snapshot", REPO / "tools" / "terraform" / "plan-snapshot.py")
plan_snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plan_snapshot)


def _plan(address: str, module_address: str, after: dict, after_unknown: dict | None = None) -> dict:
    return {
        "configuration": {"root_module": {"module_calls": {"child": {"source": "./child", "module": {}}}}},
        "resource_changes": [{"address": address, "module_address": module_address, "mode": "managed",
                              "change": {"actions": ["create"], "after": after, "after_unknown": after_unknown or {}}}],
    }


@pytest.fixture
def root(tmp_path):
    (tmp_path / "child").mkdir()
    (tmp_path / "main.tf").write_text('module "child" {\n  source = "./child"\n}\n')
    return tmp_path


def _check(tmp_path, root, recorded: dict, plan: dict) -> int:
    snap, plan_json = tmp_path / "snap.json", tmp_path / "plan.json"
    plan_json.write_text(json.dumps(plan))
    snap.write_text(json.dumps(plan_snapshot.snapshot(recorded)))
    return plan_snapshot.main(["check", str(snap), str(plan_json), str(root)])


def test_unknown_values_are_marked():
    snap = plan_snapshot.snapshot(_plan("module.child.aws_x.a", "module.child", {"name": "n", "arn": None},
                                        {"arn": True, "tags": {"k": True}}))
    assert snap["module.child.aws_x.a"]["values"] == {"name": "n", "arn": plan_snapshot.UNKNOWN,
                                                      "tags": {"k": plan_snapshot.UNKNOWN}}


def test_same_plan_passes_and_a_changed_attribute_fails(tmp_path, root):
    before = _plan("module.child.aws_x.a", "module.child", {"name": "n", "size": 1})
    assert _check(tmp_path, root, before, before) == 0
    assert _check(tmp_path, root, before, _plan("module.child.aws_x.a", "module.child", {"name": "n", "size": 2})) == 1


def test_a_move_passes_only_with_its_moved_block(tmp_path, root):
    before = _plan("module.child.aws_x.old", "module.child", {"name": "n"})
    after = _plan("module.child.module.inner.aws_x.this[0]", "module.child.module.inner", {"name": "n"})
    after["configuration"]["root_module"]["module_calls"]["child"]["module"] = {
        "module_calls": {"inner": {"source": "./inner", "module": {}}}}
    assert _check(tmp_path, root, before, after) == 1
    (root / "child" / "moved.tf").write_text("moved {\n  from = aws_x.old\n  to   = module.inner.aws_x.this[0]\n}\n")
    assert _check(tmp_path, root, before, after) == 0
    changed = json.loads(json.dumps(after))
    changed["resource_changes"][0]["change"]["after"]["name"] = "other"
    assert _check(tmp_path, root, before, changed) == 1
