"""S3 -> Lambda notifications run asynchronously, as on AWS (moto 5.2.5).

Gap: moto's `moto.s3.notifications._invoke_awslambda` invokes the function synchronously inside the
PutObject request and swallows every error. Here the invocation is queued (InvocationType=Event
semantics: retries, dead-letter queue, destinations, failures logged) and PutObject returns at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from moto.s3 import notifications

from ..executors import lambda_exec

log = logging.getLogger("localcloud.s3")


def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    from moto.awslambda.utils import get_backend

    try:
        func = get_backend(account_id, region_name).get_function(fn_arn)
    except Exception as exc:  # noqa: BLE001 - AWS drops the event; make it visible
        log.error("S3 notification target %s not found: %s", fn_arn, exc)
        return
    lambda_exec.invoke_async(func, json.dumps(event_body))


def apply() -> None:
    notifications._invoke_awslambda = _invoke_awslambda
