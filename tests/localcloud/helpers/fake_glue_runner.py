"""A stand-in Glue runner for plumbing tests (LOCALCLOUD_GLUE_RUNNER=fake_glue_runner:run_glue_script).

Behaviour from the run's arguments: `--fake_outcome` = succeed (default) | fail:<message> | timeout;
`--fake_sleep` seconds to run. Every call is appended to <state_dir>/fake_calls.jsonl.
"""

import json
import time
from collections import namedtuple
from datetime import UTC, datetime

GlueRunResult = namedtuple("GlueRunResult", "state error_message started_on completed_on")


def run_glue_script(script_location, arguments, *, endpoint_url, state_dir, timeout_s, log_path):
    started = datetime.now(UTC)
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "fake_calls.jsonl", "a") as fh:
        fh.write(json.dumps({"script_location": script_location, "arguments": arguments,
                             "endpoint_url": endpoint_url, "timeout_s": timeout_s}) + "\n")
    time.sleep(float(arguments.get("--fake_sleep", "0")))
    log_path.write_text(f"fake run of {script_location}\n")
    outcome = arguments.get("--fake_outcome", "succeed")
    done = datetime.now(UTC)
    if outcome.startswith("fail:"):
        return GlueRunResult("FAILED", outcome[5:], started, done)
    if outcome == "timeout":
        return GlueRunResult("TIMEOUT", f"Job run timed out after {timeout_s} s", started, done)
    return GlueRunResult("SUCCEEDED", None, started, done)
