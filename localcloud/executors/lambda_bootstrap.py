"""Runs one Lambda invocation inside a fresh Python process (started by lambda_exec).

Environment: LAMBDA_TASK_ROOT, _HANDLER, LOCALCLOUD_LAMBDA_EVENT, LOCALCLOUD_LAMBDA_RESULT,
LOCALCLOUD_LAMBDA_EXTRA_PATH, LOCALCLOUD_LAMBDA_DEADLINE (epoch seconds), AWS_LAMBDA_* context values.
The result file receives {"ok": true, "payload": <json text>} or {"ok": false, "error": {...}}.
Nothing from localcloud is imported here: the task root comes first on sys.path, as on AWS.
"""

import importlib
import json
import os
import sys
import time
import traceback


class LambdaContext:
    def __init__(self):
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = env["LOCALCLOUD_LAMBDA_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = env["LOCALCLOUD_LAMBDA_REQUEST_ID"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = float(env["LOCALCLOUD_LAMBDA_DEADLINE"])

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(exc, error_type=None, message=None, skip_frames=1):
    tb = exc.__traceback__
    for _ in range(skip_frames):  # drop this bootstrap's own frame(s), as the AWS runtime does
        tb = tb.tb_next if tb else None
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": os.environ.get("LOCALCLOUD_LAMBDA_REQUEST_ID", ""),
        "stackTrace": traceback.format_tb(tb) if tb else [],
    }


def _write(result):
    path = os.environ["LOCALCLOUD_LAMBDA_RESULT"]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    os.replace(tmp, path)


def _log_error(err):
    sys.stdout.flush()
    print(f"[ERROR] {err['errorType']}: {err['errorMessage']}", file=sys.stderr)
    if err["stackTrace"]:
        print("Traceback (most recent call last):", file=sys.stderr)
        print("".join(err["stackTrace"]), end="", file=sys.stderr)
    sys.stderr.flush()


def main():
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path[0] = task_root
    extra = [p for p in os.environ.get("LOCALCLOUD_LAMBDA_EXTRA_PATH", "").split(os.pathsep) if p]
    sys.path[1:1] = extra
    handler = os.environ["_HANDLER"]
    module_name, _, func_name = handler.rpartition(".")
    if not module_name:
        err = {"errorMessage": f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
               "errorType": "Runtime.MalformedHandlerName", "requestId": "", "stackTrace": []}
        _log_error(err)
        _write({"ok": False, "error": err})
        return
    with open(os.environ["LOCALCLOUD_LAMBDA_EVENT"], encoding="utf-8") as fh:
        event = json.load(fh)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # noqa: BLE001 - reported like the AWS runtime does
        err = _error(exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
        err["stackTrace"] = []
        _log_error(err)
        _write({"ok": False, "error": err})
        return
    func = getattr(module, func_name, None)
    if func is None:
        err = {"errorMessage": f"Handler '{func_name}' missing on module '{module_name}'",
               "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}
        _log_error(err)
        _write({"ok": False, "error": err})
        return
    try:
        result = func(event, LambdaContext())
    except Exception as exc:  # noqa: BLE001
        err = _error(exc)
        _log_error(err)
        _write({"ok": False, "error": err})
        return
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as exc:
        err = _error(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}")
        err["stackTrace"] = []
        _log_error(err)
        _write({"ok": False, "error": err})
        return
    sys.stdout.flush()
    sys.stderr.flush()
    _write({"ok": True, "payload": payload})


if __name__ == "__main__":
    main()
