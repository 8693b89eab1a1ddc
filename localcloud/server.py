"""The endpoint process: moto's werkzeug app with localcloud's patches, on 127.0.0.1 only."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

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


def make_app(settings: config.Settings):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return HealthMiddleware(DomainDispatcherApplication(create_backend_app), settings)


def serve(settings: config.Settings) -> None:
    from werkzeug.serving import make_server

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s", stream=sys.stderr
    )
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

        processes.kill_all()
        log.info("localcloud stopped")
