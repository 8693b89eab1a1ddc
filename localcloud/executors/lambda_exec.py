"""Runs Lambda handlers for real: the deployed zip (and its layers) in a subprocess of the endpoint's Python.

Used by every invocation path of moto (Invoke, S3 notifications, SNS, Step Functions tasks) through
localcloud.patches.lambda_.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import config, principals, processes

log = logging.getLogger("localcloud.lambda")

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
_extract_lock = threading.Lock()
_faults_lock = threading.Lock()
_async_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambda-async")


@dataclass
class InvokeResult:
    payload: bytes
    function_error: str | None  # "Unhandled" on a handler error, else None
    logs: str
    request_id: str
    duration_ms: float = 0.0
    error: dict[str, Any] | None = field(default=None)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:120]


def _extract(zip_bytes: bytes, dest: Path) -> Path:
    """Extract a zip once into dest (content-addressed by the caller); atomic against concurrent callers."""
    with _extract_lock:
        if dest.is_dir():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".extract-"))
        try:
            with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
                for info in zf.infolist():
                    zf.extract(info, tmp)
                    mode = info.external_attr >> 16
                    if mode and not info.is_dir():
                        os.chmod(tmp / info.filename, (mode & 0o777) | 0o444)
            tmp.rename(dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return dest


def _task_root(fn) -> Path:
    settings = config.current()
    if not getattr(fn, "code_bytes", b""):
        raise RuntimeError(f"function {fn.function_name} has no code (PackageType {fn.package_type})")
    digest = _safe(fn.code_sha_256 or uuid.uuid4().hex)
    return _extract(fn.code_bytes, settings.state_dir / "lambda" / "code" / _safe(fn.function_name) / digest)


def _layer_paths(fn) -> list[str]:
    if not fn.layers:
        return []
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[fn.account_id][fn.region]
    paths: list[str] = []
    for layer in fn.layers:
        arn = layer["Arn"]
        layer_version = backend.layers_versions_by_arn(arn)
        root = _extract(layer_version.code_bytes, config.current().state_dir / "lambda" / "layers" / _safe(arn))
        # AWS mounts layers at /opt; Python layers put packages under python/ or python/lib/pythonX.Y/site-packages.
        paths += [str(root / "python"), str(root / "python" / "lib" / f"python{sys.version_info.major}."
                                                                       f"{sys.version_info.minor}" / "site-packages")]
    return paths


ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."


def execution_credentials(fn) -> dict[str, str]:
    """What the handler signs with: its execution role's credentials, as Lambda gets them by assuming the
    function's Role (trust: lambda.amazonaws.com). With LOCALCLOUD_IAM=off, the admin keys.
    Raises principals.ServiceRoleError when Lambda may not assume the role."""
    if not config.current().iam_enabled:
        return {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test"}
    creds = principals.assume_service_role(fn.role, "lambda.amazonaws.com", source_arn=fn.function_arn,
                                           session_name=fn.function_name, region=fn.region)
    return creds.env()


def _environment(fn, request_id: str, task_root: Path, event_file: Path, result_file: Path,
                 deadline: float, extra_path: list[str], credentials: dict[str, str]) -> dict[str, str]:
    settings = config.current()
    now = datetime.now(UTC)
    stream = f"{now:%Y/%m/%d}/[{fn.version}]{request_id.replace('-', '')}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(task_root.parent),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.update({k: str(v) for k, v in (fn.environment_vars or {}).items()})
    # Reserved variables: the function cannot override these (as on AWS), plus the local endpoint.
    env.update(
        {
            "_HANDLER": fn.handler or "",
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            **credentials,
            "LOCALCLOUD_LAMBDA_FUNCTION_ARN": fn.function_arn,
            "LOCALCLOUD_LAMBDA_REQUEST_ID": request_id,
            "LOCALCLOUD_LAMBDA_EVENT": str(event_file),
            "LOCALCLOUD_LAMBDA_RESULT": str(result_file),
            "LOCALCLOUD_LAMBDA_EXTRA_PATH": os.pathsep.join(extra_path),
            "LOCALCLOUD_LAMBDA_DEADLINE": repr(deadline),
        }
    )
    # Point the SDK at this endpoint unless the function configures its own endpoint explicitly.
    env.setdefault("AWS_ENDPOINT_URL", settings.endpoint_url)
    return env


def run(fn, event: bytes | str | None) -> InvokeResult:
    """One synchronous invocation of the function version `fn` (a moto LambdaFunction)."""
    request_id = str(uuid.uuid4())
    if isinstance(event, str):
        event = event.encode()
    if not event:
        event = b"{}"
    try:
        json.loads(event)
    except ValueError:
        err = {"errorMessage": "Could not parse request body into json", "errorType": "InvalidRequestContentException"}
        return InvokeResult(json.dumps(err).encode(), "Unhandled", "", request_id, error=err)
    err = injected_failure(fn.function_name, event.decode("utf-8", "replace"))
    if err is not None:
        log.warning("lambda %s request %s: %s", fn.function_name, request_id, err["errorMessage"])
        return InvokeResult(json.dumps(err).encode(), "Unhandled", "", request_id, error=err)
    work = config.current().state_dir / "lambda" / "invocations" / request_id
    work.mkdir(parents=True, exist_ok=True)
    event_file, result_file = work / "event.json", work / "result.json"
    event_file.write_bytes(event)
    started = time.time()
    timeout = float(fn.timeout or 3)
    try:
        credentials = execution_credentials(fn)
    except principals.ServiceRoleError as exc:
        log.error("lambda %s request %s: %s (%s)", fn.function_name, request_id, ROLE_NOT_ASSUMABLE, exc)
        err = {"errorMessage": f"{ROLE_NOT_ASSUMABLE} {exc}", "errorType": "InvalidParameterValueException"}
        shutil.rmtree(work, ignore_errors=True)
        return InvokeResult(json.dumps(err).encode(), "Unhandled", "", request_id, error=err)
    try:
        task_root = _task_root(fn)
        extra_path = _layer_paths(fn)
    except Exception as exc:  # noqa: BLE001
        err = {"errorMessage": f"Could not unpack the deployment package: {exc}", "errorType": "Runtime.InvalidEntrypoint"}
        shutil.rmtree(work, ignore_errors=True)
        return InvokeResult(json.dumps(err).encode(), "Unhandled", "", request_id, error=err)
    env = _environment(fn, request_id, task_root, event_file, result_file, started + timeout, extra_path,
                       credentials)
    proc = subprocess.Popen(
        [sys.executable, str(BOOTSTRAP)], cwd=task_root, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    processes.track(proc)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        processes.kill_group(proc)
        out, _ = proc.communicate()
    finally:
        processes.untrack(proc)
    duration_ms = (time.time() - started) * 1000
    output = out.decode("utf-8", errors="replace")
    result = None
    if result_file.exists():
        try:
            result = json.loads(result_file.read_text(encoding="utf-8"))
        except ValueError:
            result = None
    shutil.rmtree(work, ignore_errors=True)

    if timed_out:
        err = {"errorMessage": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ} {request_id} "
                               f"Task timed out after {timeout:.2f} seconds",
               "errorType": "Sandbox.Timedout"}
    elif result is None:
        err = {"errorType": "Runtime.ExitError",
               "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {proc.returncode}"}
    elif not result["ok"]:
        err = result["error"]
    else:
        err = None

    logs = (
        f"START RequestId: {request_id} Version: {fn.version}\n{output}"
        + ("" if output.endswith("\n") or not output else "\n")
        + f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {int(duration_ms) + 1} ms\t"
        f"Memory Size: {fn.memory_size} MB\n"
    )
    _save_logs(fn, env["AWS_LAMBDA_LOG_STREAM_NAME"], logs)
    if err is not None:
        log.warning("lambda %s request %s failed: %s: %s", fn.function_name, request_id,
                    err.get("errorType"), err.get("errorMessage"))
        return InvokeResult(json.dumps(err).encode(), "Unhandled", logs, request_id, duration_ms, err)
    log.info("lambda %s request %s ok in %.0f ms", fn.function_name, request_id, duration_ms)
    return InvokeResult(result["payload"].encode(), None, logs, request_id, duration_ms)


def faults_dir() -> Path:
    return config.current().state_dir / "lambda" / "faults"


def injected_failure(function_name: str, event_text: str) -> dict[str, str] | None:
    """Test ground only: a failed invocation a test armed (`<state dir>/lambda/faults/<name>.json`:
    {"function": name, "event_contains": text, "failures": N}), as a handler error, before the handler runs.
    The first N invocations of that function whose event holds the text fail; the file counts them
    ("injected"), so a test sees how many attempts there were."""
    folder = faults_dir()
    if not folder.is_dir():
        return None
    with _faults_lock:
        for path in sorted(folder.glob("*.json")):
            try:
                fault = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            injected = int(fault.get("injected", 0))
            if (fault.get("function") != function_name or fault.get("event_contains", "") not in event_text
                    or injected >= int(fault.get("failures", 1))):
                continue
            fault["injected"] = injected + 1
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(json.dumps(fault))
            os.replace(tmp, path)
            return {"errorType": "LocalcloudInjectedFault",
                    "errorMessage": f"localcloud fault {path.stem}: injected failure {injected + 1} of "
                                    f"{fault.get('failures', 1)}"}
    return None


def _save_logs(fn, stream: str, text: str) -> None:
    try:
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        try:
            fn.logs_backend.create_log_stream(fn.logs_group_name, stream)
        except Exception:  # noqa: BLE001 - the stream exists already
            log.debug("log stream %s exists", stream)
        now = int(time.time() * 1000)
        fn.logs_backend.put_log_events(
            fn.logs_group_name, stream, [{"timestamp": now, "message": line} for line in text.splitlines() if line]
        )
    except Exception:
        log.exception("could not store logs of %s", fn.function_name)


# ---------------------------------------------------------------- asynchronous invocations


def _client(fn, service: str, region: str):
    """A client signed as the function's execution role: Lambda sends to dead-letter targets and
    destinations with the execution role's permissions (sqs:SendMessage, sns:Publish, lambda:InvokeFunction,
    events:PutEvents), https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html."""
    import boto3

    creds = execution_credentials(fn)
    return boto3.client(service, region_name=region, endpoint_url=config.current().endpoint_url,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"])


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    parts = arn.split(":", 5)
    return parts[2], parts[3], parts[4], parts[5]  # service, region, account, resource


def _send(fn, target_arn: str, body: str, attributes: dict[str, str] | None = None) -> None:
    service, region, account, resource = _arn_parts(target_arn)
    if service == "sqs":
        # The queue's URL is the service's own lookup, not a call the role makes (it needs sqs:SendMessage only).
        from urllib.parse import urlparse

        from moto.sqs.models import sqs_backends

        url = sqs_backends[account][region].get_queue(resource).url(urlparse(config.current().endpoint_url))
        sqs = _client(fn, "sqs", region)
        attrs = {k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()}
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
    elif service == "sns":
        attrs = {k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()}
        _client(fn, "sns", region).publish(TopicArn=target_arn, Message=body, MessageAttributes=attrs)
    elif service == "lambda":
        _client(fn, "lambda", region).invoke(FunctionName=target_arn, InvocationType="Event", Payload=body.encode())
    elif service == "events":
        _client(fn, "events", region).put_events(Entries=[{
            "Source": "lambda", "DetailType": "Lambda Function Invocation Result", "Detail": body,
            "EventBusName": target_arn}])
    else:
        raise ValueError(f"unsupported destination {target_arn}")


def _event_invoke_config(fn) -> dict[str, Any]:
    configs = getattr(fn, "event_invoke_config", None) or []
    return dict(configs[0].config) if configs else {}


def invoke_async(fn, event: bytes | str | None) -> str:
    """InvocationType=Event: queue the invocation; retries, DLQ and destinations as AWS does."""
    request_id = str(uuid.uuid4())
    _async_pool.submit(_run_async, fn, event, request_id)
    return request_id


def _run_async(fn, event, request_id: str) -> None:
    try:
        cfg = _event_invoke_config(fn)
        retries = int(cfg.get("MaximumRetryAttempts", 2))
        attempts = 0
        while True:
            attempts += 1
            result = run(fn, event)
            if result.function_error is None or attempts > retries:
                break
            time.sleep(config.current().lambda_async_retry_delay * attempts)
        destinations = cfg.get("DestinationConfig") or {}
        event_text = event.decode() if isinstance(event, bytes) else (event or "{}")
        if result.function_error:
            log.error("asynchronous invocation %s of %s failed after %d attempt(s): %s", request_id,
                      fn.function_name, attempts, result.payload.decode(errors="replace"))
            dlq = (getattr(fn, "localcloud_dead_letter_config", None) or {}).get("TargetArn")
            if dlq:
                err = result.error or {}
                _send(fn, dlq, event_text, {"RequestID": result.request_id, "ErrorCode": "200",
                                        "ErrorMessage": str(err.get("errorMessage", ""))[:1000]})
                log.info("sent failed event of %s to dead-letter target %s", fn.function_name, dlq)
            target = (destinations.get("OnFailure") or {}).get("Destination")
            if target:
                _send(fn, target, _destination_record(fn, event_text, result, attempts, "RetriesExhausted"))
        else:
            target = (destinations.get("OnSuccess") or {}).get("Destination")
            if target:
                _send(fn, target, _destination_record(fn, event_text, result, attempts, "Success"))
    except Exception:
        log.exception("asynchronous invocation %s of %s could not complete", request_id, fn.function_name)


def _destination_record(fn, event_text: str, result: InvokeResult, attempts: int, condition: str) -> str:
    try:
        request_payload = json.loads(event_text)
    except ValueError:
        request_payload = event_text
    try:
        response_payload = json.loads(result.payload)
    except ValueError:
        response_payload = result.payload.decode(errors="replace")
    response_context = {"statusCode": 200, "executedVersion": str(fn.version)}
    if result.function_error:
        response_context["functionError"] = result.function_error
    return json.dumps({
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {"requestId": result.request_id, "functionArn": f"{fn.function_arn}:{fn.version}",
                           "condition": condition, "approximateInvokeCount": attempts},
        "requestPayload": request_payload,
        "responseContext": response_context,
        "responsePayload": response_payload,
    })
