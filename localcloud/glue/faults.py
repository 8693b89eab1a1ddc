"""Test ground only: faults a test arms for one local Glue run, met at the Iceberg commit of one table.

A test writes `<glue state dir>/faults/<name>.json` (``arm``; the endpoint's glue state dir is
``$LOCALCLOUD_DIR/state/glue``). The first run whose arguments hold every ``match`` item claims it (the file is
renamed to ``<name>.claimed``, so no later run meets it) and reaches the fault when it commits ``table``: its data
files and new metadata file are written, the catalog's compare-and-swap (Glue's UpdateTable on AWS) is next.
There the run creates ``<name>.reached`` and then

* ``hold``: waits until ``<name>.release`` exists (``release``), at most ``timeout_s``, and commits;
* ``kill``: SIGKILLs its driver's process group (driver, JVM, PySpark workers): the run ends FAILED.

The hook is in the local catalogs' JDBC driver (localcloud/java/localcloud/jdbc/CommitFault.java), which gets
the fault as catalog properties of the run's session. Nothing here exists on AWS or in what deploys there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ACTIONS = ("hold", "kill")
JDBC_PREFIX = "jdbc.localcloud.fault."  # the catalog's jdbc.* keys reach the JDBC driver without "jdbc."


def faults_dir(glue_state_dir: Path) -> Path:
    return Path(glue_state_dir) / "faults"


def arm(folder: Path, name: str, *, match: dict[str, str], table: str, action: str,
        timeout_s: float = 600) -> None:
    """Arm a fault for the next run whose arguments hold every `match` item (keys with or without `--`).
    `table` is `<database>.<table>` as the run's catalogs name it."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    namespace, _, table_name = table.rpartition(".")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps({"match": match, "namespace": namespace, "table": table_name, "action": action,
                               "timeout_s": timeout_s}))
    os.replace(tmp, folder / f"{name}.json")  # a run sees the whole file or none


def claim(folder: Path, arguments: dict[str, str]) -> dict | None:
    """The first armed fault whose match items the run's (normalised, `--key`) arguments hold, now claimed."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json")):
        try:
            fault = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        match = {(k if k.startswith("--") else f"--{k}"): str(v) for k, v in fault["match"].items()}
        if any(arguments.get(k) != v for k, v in match.items()):
            continue
        claimed = path.with_suffix(".claimed")
        try:
            os.rename(path, claimed)  # atomic: of two runs that match, one claims it
        except FileNotFoundError:
            continue
        name = path.stem
        return {"name": name, "namespace": fault["namespace"], "table": fault["table"], "action": fault["action"],
                "timeout_s": fault["timeout_s"], "reached": str(folder / f"{name}.reached"),
                "release": str(folder / f"{name}.release")}
    return None


def catalog_conf(fault: dict | None, catalogs: list[str]) -> dict[str, str]:
    """Spark settings that hand the fault to each of the run's Iceberg catalogs' JDBC driver."""
    if not fault:
        return {}
    values = {"namespace": fault["namespace"], "table": fault["table"], "action": fault["action"],
              "reached": fault["reached"], "release": fault["release"], "timeout-s": str(fault["timeout_s"])}
    return {f"spark.sql.catalog.{c}.{JDBC_PREFIX}{k}": v for c in catalogs for k, v in values.items()}


def wait_reached(folder: Path, name: str, timeout_s: float) -> str:
    """Wait until a run reached the fault; returns what it wrote (action and JVM pid)."""
    path = folder / f"{name}.reached"
    end = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > end:
            raise TimeoutError(f"no run reached the fault {name} within {timeout_s:.0f}s")
        time.sleep(0.2)  # poll interval of a deadline-bounded wait
    return path.read_text()


def release(folder: Path, name: str) -> None:
    (folder / f"{name}.release").touch()
