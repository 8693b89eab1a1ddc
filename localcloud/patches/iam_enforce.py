"""IAM enforcement: every request not signed with an admin key is authenticated and authorized (moto 5.2.5).

Gap: moto evaluates IAM only after INITIAL_NO_AUTH_ACTION_COUNT requests (default: never), then treats every
key it did not issue as invalid (so the fake admin keys Terraform and the tests use would fail), authorizes
most actions on `*` only, and its policy evaluator is wrong in ways that matter (see iam_policy.py).

Here, with LOCALCLOUD_IAM=on (default):
- requests signed with an admin key (LOCALCLOUD_IAM_ADMIN_KEYS, default `test,testing`) act as the
  account's administrator and are not evaluated, as the account root is on AWS;
- any other key must be one the endpoint issued (an IAM user's access key, or assumed-role credentials,
  e.g. those the Lambda, Glue and Step Functions executors get for their execution roles): unknown keys,
  wrong session tokens and bad signatures are refused by moto's own checks (InvalidClientTokenId,
  SignatureDoesNotMatch); unsigned requests are refused;
- the principal's identity-based policies (inline and attached; a user's groups' too) are evaluated for
  each (action, resource, context) the request needs (iam_resources.py) with AWS's evaluation logic;
  anything not allowed fails with AWS's AccessDenied wording, naming the action and the resource:
  "User: <session ARN> is not authorized to perform: <action> on resource: <ARN> because no
  identity-based policy allows the <action> action" (or "with an explicit deny in an identity-based
  policy"); https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html.
- sts:AssumeRole also needs the role's trust policy to allow the caller; sts:GetCallerIdentity is always
  allowed (as on AWS).
Not evaluated (AWS would): resource-based policies granting access (bucket, key, topic policies; moto still
applies a bucket policy's Deny), permissions boundaries, SCPs, session policies, KMS key policies (assumed to
delegate to IAM, as the default key policy does).
Every denial is logged (`localcloud.iam`), so asynchronous callers' failures are visible in endpoint.log.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlparse

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import (
    AccessDeniedError,
    InvalidClientTokenIdError,
    JsonRESTError,
    ServiceException,
    SignatureDoesNotMatchError,
)
from moto.s3.exceptions import S3ClientError
from werkzeug.exceptions import HTTPException

from .. import config, principals
from . import iam_policy, iam_resources

log = logging.getLogger("localcloud.iam")

# Services whose errors are JSON ({"__type": ..., "message": ...}); the others answer XML.
JSON_SERVICES = {"glue", "states", "lambda", "kms", "s3tables", "logs", "athena", "lakeformation", "events"}


class JsonAccessDenied(JsonRESTError):
    code = 400

    def __init__(self, message: str, status: int = 400):
        super().__init__("AccessDeniedException", message)
        self.code = status


class XmlAccessDenied(AccessDeniedError):
    def __init__(self, message: str):
        super(AccessDeniedError, self).__init__("AccessDenied", message)


class S3AccessDenied(S3ClientError):
    code = 403

    def __init__(self, message: str):
        super().__init__("AccessDenied", message)


def _documents(policies: list[Any]) -> list[dict[str, Any]]:
    """moto's collected policies (managed Policy objects, inline documents, user-policy dicts) -> JSON docs."""
    from moto.iam.models import Policy

    docs = []
    for policy in policies:
        if isinstance(policy, Policy):
            text = next(v.document for v in policy.versions if v.is_default)
        elif isinstance(policy, str):
            text = policy
        else:
            text = policy["policy_document"]
        docs.append(json.loads(text) if isinstance(text, str) else text)
    return docs


def denial_message(caller_arn: str, check: iam_resources.Check, decision: str) -> str:
    on = f" on resource: {check.resource}" if check.resource else ""
    why = ("with an explicit deny in an identity-based policy" if decision == iam_policy.DENY
           else f"because no identity-based policy allows the {check.action} action")
    return f"User: {caller_arn} is not authorized to perform: {check.action}{on} {why}"


class AccessDeniedServiceError(ServiceException):
    """Serialized by moto with the service's own model (defined outside moto's packages on purpose: moto
    looks a `moto.<service>` exception up in that service's model)."""


class SerializedError(HTTPException):
    """An error already serialized for the request's protocol (query XML, JSON, CBOR) by moto's serializer."""

    def __init__(self, status: int, body: str | bytes):
        super().__init__(description=body)
        self.code = status


def _deny(resp: Any, is_s3: bool, signing_name: str, message: str) -> None:
    if is_s3:
        raise S3AccessDenied(message)
    from moto.core.responses import ActionResult

    code = "AccessDeniedException" if signing_name in JSON_SERVICES else "AccessDenied"
    try:
        _, headers, body = resp.serialized(ActionResult(AccessDeniedServiceError(code, message)))
    except Exception:  # noqa: BLE001 - a protocol moto's serializer does not cover: its own error types
        if signing_name in JSON_SERVICES:
            raise JsonAccessDenied(message, 403 if signing_name in ("lambda", "s3tables") else 400) from None
        raise XmlAccessDenied(message) from None
    resp.response_headers.update({k: v for k, v in headers.items() if k != "status"})
    # Query-protocol services answer AccessDenied with 403, JSON ones AccessDeniedException with 400
    # (Lambda and S3 Tables: 403).
    raise SerializedError(403 if code == "AccessDenied" or signing_name in ("lambda", "s3tables") else 400, body)


def _trust_allows_caller(role_arn: str, caller_role_or_user: str, account: str) -> bool:
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's STS answers for roles that do not exist; so does AWS (AccessDenied)
        return False
    principal = {"AWS": [caller_role_or_user, f"arn:aws:iam::{account}:root", account]}
    return iam_policy.evaluate_trust(json.loads(role.assume_role_policy_document), "sts:AssumeRole",
                                     principal) == iam_policy.ALLOW


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    if not config.current().iam_enabled:
        return
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    from moto.iam.access_control import S3IAMRequest, create_access_key

    is_s3 = iam_request_cls is S3IAMRequest
    key_id, region, signing_name = principals.credential_scope(self.headers, getattr(self, "uri", ""))
    operation = self._get_action()
    if key_id is None:
        log.warning("denied anonymous request %s %s", signing_name or "?", operation)
        _deny(self, is_s3, signing_name, f"Anonymous users are not authorized to perform: {signing_name}:{operation}")
    if principals.is_admin_key(key_id):
        return
    if "Authorization" in self.headers:
        parsed = urlparse(self.uri)
        path = self.raw_path + (f"?{parsed.query}" if parsed.query else "")
        try:
            request = iam_request_cls(account_id=self.current_account, method=self.method, path=path,
                                      data=self.data, body=self.raw_body, headers=self.headers, action=operation)
            if not self.raw_body and self.method in ("GET", "HEAD", "DELETE"):
                # moto signs `body or data`: for a bodiless REST request `data` holds the URI's parameters,
                # which were never the payload (a form POST's body is in `data` only, so it stays).
                request._data = {}
            request.check_signature()
        except (InvalidClientTokenIdError, SignatureDoesNotMatchError) as exc:
            if signing_name not in JSON_SERVICES:
                raise
            # JSON services name these errors differently from the query services moto answers for.
            invalid_key = isinstance(exc, InvalidClientTokenIdError)
            error = JsonRESTError("UnrecognizedClientException" if invalid_key else "InvalidSignatureException",
                                  exc.message)
            error.code = 403
            raise error from None
        access_key = request._access_key
    else:  # presigned URL: the signature is S3's to check; the key must still be one the endpoint issued
        access_key = create_access_key(self.current_account, "aws", key_id, dict(self.headers))
    caller = access_key.arn
    if is_s3:
        checks = iam_resources.s3_checks(self, f"s3:{operation}", resource, region, self.current_account)
    else:
        checks = iam_resources.service_checks(self, signing_name, operation, region, self.current_account)
    if checks and checks[0].action == "sts:GetCallerIdentity":
        return
    policies = _documents(access_key.collect_policies())
    principal = principals.principal_arn(key_id) or caller
    for check in checks:
        context = {"aws:PrincipalArn": principal, "aws:RequestedRegion": region, "aws:SecureTransport": "true",
                   **check.context}
        decision = iam_policy.evaluate(policies, check.action, check.resource, context)
        if (decision == iam_policy.ALLOW and check.action == "sts:AssumeRole" and check.resource
                and not _trust_allows_caller(check.resource, principal, self.current_account)):
            decision = iam_policy.IMPLICIT_DENY
        if decision != iam_policy.ALLOW:
            message = denial_message(caller, check, decision)
            log.warning("denied: %s", message)
            _deny(self, is_s3, signing_name, message)


def apply() -> None:
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize
