"""Lambda: run handlers for real (moto 5.2.5).

Gaps filled:
- moto runs handlers only in Docker (absent here); with use_docker=false it echoes the payload. Both
  `LambdaFunction.invoke` and `LambdaFunction._invoke_lambda` are replaced by a subprocess executor
  (localcloud.executors.lambda_exec), so Invoke, S3 notifications, SNS and Step Functions tasks all run
  the handler from the deployed zip.
- a handler exception is reported as `X-Amz-Function-Error: Unhandled` (moto says "Handled").
- InvocationType=Event (and SNS deliveries) run in the background with AWS's retries, dead-letter
  target and on-success/on-failure destinations; moto ran them synchronously.
- `DeadLetterConfig` is dropped by moto (never stored or returned); it is stored and echoed here.
- CreateFunction accepts a role whose trust policy does not let lambda.amazonaws.com assume it (moto only
  checks that the role exists); AWS refuses it with InvalidParameterValueException "The role defined for the
  function cannot be assumed by Lambda." (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
  Refused here too when IAM enforcement is on; each invocation then runs with the role's credentials.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from moto.awslambda import models as lambda_models

from .. import config, principals
from ..executors import lambda_exec

_local = threading.local()


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    try:
        value = headers.get(name)
        if value is not None:
            return value
    except AttributeError:
        return None
    lname = name.lower()
    for key, value in dict(headers).items():
        if key.lower() == lname:
            return value
    return None


def _invoke(self, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    if isinstance(body, dict | list):
        import json

        body = json.dumps(body)
    inv_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if getattr(_local, "force_async", False):
        inv_type = "Event"
    if inv_type == "DryRun":
        return b""
    if inv_type == "Event":
        request_id = lambda_exec.invoke_async(self, body)
        response_headers["x-amzn-RequestId"] = request_id
        return b""
    result = lambda_exec.run(self, body)
    response_headers["x-amzn-RequestId"] = result.request_id
    response_headers["X-Amz-Executed-Version"] = str(self.version)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    if (_header(request_headers, "X-Amz-Log-Type") or "").lower() == "tail":
        response_headers["x-amz-log-result"] = base64.b64encode(result.logs.encode()[-4096:]).decode()
    return result.payload


def _invoke_lambda(self, event: Any = None) -> tuple[str, bool, str]:
    import json

    result = lambda_exec.run(self, json.dumps(event if event is not None else {}))
    return result.payload.decode(), result.function_error is not None, result.logs


_orig_init = lambda_models.LambdaFunction.__init__
_orig_get_configuration = lambda_models.LambdaFunction.get_configuration
_orig_update_configuration = lambda_models.LambdaFunction.update_configuration
_orig_send_sns_message = lambda_models.LambdaBackend.send_sns_message
_orig_put_function = lambda_models.LambdaStorage.put_function


def _put_function(self, fn: Any) -> None:
    if config.current().iam_enabled:
        from moto.iam.models import iam_backends

        try:
            role = iam_backends[self.account_id][self.partition].get_role_by_arn(fn.role)
        except Exception:  # noqa: BLE001 - malformed or missing role: moto's own checks below answer
            role = None
        context = {"aws:SourceAccount": self.account_id, "aws:SourceArn": fn.function_arn}
        if role is not None and not principals.trust_allows_service(
                role.assume_role_policy_document, "lambda.amazonaws.com", context):
            raise lambda_models.InvalidParameterValueException(lambda_exec.ROLE_NOT_ASSUMABLE)
    _orig_put_function(self, fn)


def _init(self, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
    _orig_init(self, account_id, spec, region, version)
    self.localcloud_dead_letter_config = spec.get("DeadLetterConfig") or None


def _get_configuration(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
    cfg = _orig_get_configuration(self, *args, **kwargs)
    dlc = getattr(self, "localcloud_dead_letter_config", None)
    if dlc and dlc.get("TargetArn"):
        cfg["DeadLetterConfig"] = dlc
    return cfg


def _update_configuration(self, config_updates: dict[str, Any]) -> dict[str, Any]:
    if "DeadLetterConfig" in config_updates:
        self.localcloud_dead_letter_config = config_updates["DeadLetterConfig"] or None
    return _orig_update_configuration(self, config_updates)


def _send_sns_message(self, *args: Any, **kwargs: Any) -> None:
    _local.force_async = True
    try:
        _orig_send_sns_message(self, *args, **kwargs)
    finally:
        _local.force_async = False


def apply() -> None:
    lambda_models.LambdaFunction.invoke = _invoke
    lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda
    lambda_models.LambdaFunction.__init__ = _init
    lambda_models.LambdaFunction.get_configuration = _get_configuration
    lambda_models.LambdaFunction.update_configuration = _update_configuration
    lambda_models.LambdaBackend.send_sns_message = _send_sns_message
    lambda_models.LambdaStorage.put_function = _put_function
