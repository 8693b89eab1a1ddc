"""The endpoint process: moto's werkzeug app with localcloud's patches, on 127.0.0.1 only."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import threading
from collections import OrderedDict

from . import config

log = logging.getLogger("localcloud")

HEALTH_PATHS = ("/_localcloud/health", "/_localstack/health")
SERVICES = (
    "s3", "lambda", "stepfunctions", "glue", "athena", "lakeformation", "s3tables", "iam", "sts",
    "kms", "sns", "sqs", "logs", "events",
)


class HealthMiddleware:
    """Answers the readiness probe before handing everything else to moto."""

    def __init__(self, app, settings: config.Settings):
        self.app = app
        self.settings = settings

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in HEALTH_PATHS and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = json.dumps(
                {
                    "status": "running",
                    "pid": os.getpid(),
                    "endpoint": self.settings.endpoint_url,
                    "services": {s: "running" for s in SERVICES},
                    "edition": "localcloud",
                }
            ).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


class RetryReplayMiddleware:
    """Answers an SDK retry of a write the endpoint already carried out with that write's response.

    The AWS SDKs retry a request whose response they did not get (a dropped connection, a timeout) and
    mark it: the same `amz-sdk-invocation-id`, `amz-sdk-request: attempt=N`. The endpoint is werkzeug's
    development server on a loaded 2-core machine, where that happens far more often than on AWS, and a
    retried create then fails with "already exists" (seen: Terraform's CreatePolicy answered 409 on a fresh
    endpoint). The first attempt's response is what the client should have received, so a retry gets it
    again. Only writes (POST, PUT, DELETE) with small 2xx responses are kept, a bounded number of them.
    """

    MAX_ENTRIES = 1024
    MAX_BODY = 64 * 1024

    def __init__(self, app):
        self.app = app
        self.done: OrderedDict[str, tuple[str, list, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or environ.get("REQUEST_METHOD") not in ("POST", "PUT", "DELETE"):
            return self.app(environ, start_response)
        key = f"{invocation} {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        attempt = re.match(r"\s*attempt=(\d+)", environ.get("HTTP_AMZ_SDK_REQUEST") or "")
        if attempt and int(attempt.group(1)) > 1:
            with self.lock:
                cached = self.done.get(key)
            if cached is not None:
                log.warning("SDK retry of a completed request (%s %s, invocation %s): answered with its first "
                            "response", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), invocation)
                status, headers, body = cached
                start_response(status, headers)
                return [body]
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture)
        if not str(captured.get("status", "")).startswith("2"):
            return result
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        if len(body) <= self.MAX_BODY:
            with self.lock:
                self.done[key] = (captured["status"], captured["headers"], body)
                while len(self.done) > self.MAX_ENTRIES:
                    self.done.popitem(last=False)
        return [body]


def prepare(settings: config.Settings) -> None:
    """Environment and in-process moto configuration; must run before moto backends are used."""
    config.set_current(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    # The Step Functions engine calls back to localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(settings.port)
    # AWS-managed IAM policies (read when the IAM backend is created).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    # Clients the endpoint makes to itself (Step Functions engine, Lambda destinations).
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(proxy, None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"

    from moto.core.config import default_user_config

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    # Lambda keeps moto's Docker-backed backend class; its container runner is replaced by a subprocess.
    default_user_config["lambda"] = {"use_docker": True}

    from . import patches

    patches.apply_all()


def failed_requests_only(record: logging.LogRecord) -> bool:
    """werkzeug's request line ('"%s" %s %s': request, status, size) only for 4xx and 5xx answers."""
    args = record.args
    return not (isinstance(args, tuple) and len(args) == 3 and str(args[1])[:1] in ("1", "2", "3"))


def cache_moto_module_list() -> None:
    """moto's dispatcher asks `host in backends.list_of_moto_modules()` on every request, which lists and
    stats moto's package directory (0.65 ms a request, 8% of the endpoint's busy CPU in a 200-file burst);
    that directory does not change while the endpoint runs. Idempotent."""
    from moto import backends

    if getattr(backends.list_of_moto_modules, "localcloud_cached", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def cached() -> tuple[str, ...]:
        return modules

    cached.localcloud_cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = cached


def make_app(settings: config.Settings):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    cache_moto_module_list()
    return HealthMiddleware(RetryReplayMiddleware(DomainDispatcherApplication(create_backend_app)), settings)


def serve(settings: config.Settings) -> None:
    from werkzeug.serving import make_server

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s", stream=sys.stderr
    )
    # One line per request was 8% of the endpoint's busy CPU (py-spy, 200-file burst: 23 of 293 samples
    # formatting and writing them); a failed request's line is kept.
    logging.getLogger("werkzeug").addFilter(failed_requests_only)
    prepare(settings)
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    server = make_server(
        config.HOST, settings.port, make_app(settings), threaded=True, request_handler=MotoRequestHandler
    )
    stopping = threading.Event()

    def _stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            log.info("signal %s: shutting down", signum)
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from .executors import athena_exec

    threading.Thread(target=athena_exec.warm_up, name="duckdb-warm-up", daemon=True).start()
    log.info("localcloud listening on %s (pid %s, state %s)", settings.endpoint_url, os.getpid(), settings.state_dir)
    try:
        server.serve_forever()
    finally:
        from . import processes
        from .executors import glue_exec

        try:
            glue_exec.shutdown()  # warm Spark drivers stop their SparkContext; kill_all() takes what is left
        except Exception:
            log.exception("stopping the warm Glue drivers failed")
        processes.kill_all()
        log.info("localcloud stopped")
