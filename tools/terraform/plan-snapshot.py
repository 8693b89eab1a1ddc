"""Snapshots of the offline plans of environments/dev and environments/prod (terraform/plan-snapshots/):
every managed resource the plan creates, by address, with all its planned attribute values (values only
known after apply are marked so). `make tf-check` plans each environment again and fails when the plan
differs from its committed snapshot, so a refactoring that should change nothing is proven to change
nothing, and an intended change shows up as a reviewed diff of the snapshot.

Addresses a refactoring changes must be covered by `moved` blocks (as Terraform needs them to keep the
state): the check applies the `moved` blocks of the planned configuration to the snapshot's addresses
first, so a move without its block fails, and a move with it passes as long as every attribute is the same.

Usage: plan-snapshot.py check <snapshot.json> <plan.json> <root dir>   exit 1 and print the differences
       plan-snapshot.py write <snapshot.json> <plan.json>              (re)write the snapshot from the plan
<plan.json> is `terraform show -json` of the plan (tools/terraform/plan-offline.sh <env> <plan.json>);
<root dir> is the environment root it planned (its module sources are relative to it).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

UNKNOWN = "(known after apply)"
MOVED = re.compile(r"^moved\s*\{\s*from\s*=\s*(\S+)\s*to\s*=\s*(\S+)\s*\}", re.MULTILINE)
MODULE_STEP = re.compile(r"module\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?")


def _merge_unknown(value, unknown):
    """The planned value with every leaf Terraform only knows after apply replaced by UNKNOWN."""
    if unknown is True:
        return UNKNOWN
    if isinstance(unknown, dict):
        value = dict(value or {})
        for k, u in unknown.items():
            value[k] = _merge_unknown(value.get(k), u)
        return value
    if isinstance(unknown, list) and isinstance(value, list):
        return [_merge_unknown(v, u) for v, u in zip(value, unknown + [False] * (len(value) - len(unknown)))]
    if isinstance(unknown, list) and unknown and value is None:
        return [_merge_unknown(None, u) for u in unknown]
    return value


def snapshot(plan: dict) -> dict:
    out = {}
    for rc in plan.get("resource_changes", []):
        if rc["mode"] != "managed":
            continue
        change = rc["change"]
        out[rc["address"]] = {
            "actions": change["actions"],
            "values": _merge_unknown(change.get("after"), change.get("after_unknown", {})),
        }
    return dict(sorted(out.items()))


def _module_dirs(module: dict, directory: str, calls: tuple = ()) -> dict[tuple, str]:
    """Folder of every module call of the configuration, by its path of call names."""
    dirs = {calls: directory}
    for name, call in module.get("module_calls", {}).items():
        dirs |= _module_dirs(call["module"], os.path.normpath(os.path.join(directory, call["source"])),
                             calls + (name,))
    return dirs


def moves(plan: dict, root_dir: str) -> list[tuple[str, str]]:
    """(from, to) absolute addresses of every `moved` block, for every module instance of the plan."""
    dirs = _module_dirs(plan["configuration"]["root_module"], root_dir)
    prefixes = {"": ()}
    for rc in plan.get("resource_changes", []):
        steps = [m.group(0) for m in MODULE_STEP.finditer(rc.get("module_address", ""))]
        for i in range(1, len(steps) + 1):
            prefixes[".".join(steps[:i]) + "."] = tuple(MODULE_STEP.match(s)[1] for s in steps[:i])
    found = []
    for prefix, calls in prefixes.items():
        for tf in sorted(Path(dirs[calls]).glob("*.tf")):
            found += [(prefix + a, prefix + b) for a, b in MOVED.findall(tf.read_text())]
    return found


def apply_moves(snap: dict, moved: list[tuple[str, str]]) -> dict:
    """The snapshot with its addresses moved as Terraform would move them in the state."""
    snap = dict(snap)
    for _ in range(len(moved) + 1):  # chains of moves (a -> b, b -> c)
        changed = False
        for old, new in moved:
            for address in [a for a in snap if a == old or a.startswith((old + ".", old + "["))]:
                snap[new + address[len(old):]] = snap.pop(address)
                changed = True
        if not changed:
            break
    return snap


def _diff(path: str, old, new, lines: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            _diff(f"{path}.{k}", old.get(k), new.get(k), lines)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (o, n) in enumerate(zip(old, new)):
            _diff(f"{path}[{i}]", o, n, lines)
    elif old != new:
        lines.append(f"  ~ {path}: {json.dumps(old)[:300]} -> {json.dumps(new)[:300]}")


def differences(old: dict, new: dict) -> list[str]:
    lines = [f"  - {a} (in the snapshot, not planned)" for a in old if a not in new]
    lines += [f"  + {a} (planned, not in the snapshot)" for a in new if a not in old]
    for address in sorted(set(old) & set(new)):
        _diff(address, old[address], new[address], lines)
    return lines


def main(argv: list[str]) -> int:
    if not (argv[:1] == ["check"] and len(argv) == 4 or argv[:1] == ["write"] and len(argv) == 3):
        print(__doc__, file=sys.stderr)
        return 2
    command, snapshot_path, plan_path = argv[0], Path(argv[1]), Path(argv[2])
    plan = json.loads(plan_path.read_text())
    new = snapshot(plan)
    if command == "write":
        snapshot_path.parent.mkdir(parents=True, exist_ok=True)
        snapshot_path.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
        print(f"{snapshot_path}: {len(new)} resources")
        return 0
    recorded = json.loads(snapshot_path.read_text())
    old = apply_moves(recorded, moves(plan, argv[3]))
    lines = differences(old, new)
    if lines:
        print(f"{snapshot_path}: the plan differs from the committed snapshot ({len(lines)} differences):",
              file=sys.stderr)
        print("\n".join(lines[:200]), file=sys.stderr)
        print("If the change is intended, review it and run `make tf-plan-snapshots` to update the snapshots; "
              "if addresses moved, add `moved` blocks (terraform/README.md).", file=sys.stderr)
        return 1
    moved = sorted(set(recorded) - set(old))
    print(f"{snapshot_path}: the plan matches the snapshot ({len(new)} resources"
          + (f", {len(moved)} of them at addresses their `moved` blocks give; `make tf-plan-snapshots` "
             "records the new addresses)" if moved else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
