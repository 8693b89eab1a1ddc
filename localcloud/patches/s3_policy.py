"""S3 bucket policies: conditions evaluated, with the endpoint's transport counted as secure (moto 5.2.5).

Gap: moto's bucket-policy check (`FakeBucket.get_permission` -> `IAMPolicyStatement.is_action_permitted`)
ignores every condition operator but `StringEquals` (an unknown operator "matches"), and a statement whose
conditions do not match returns DENIED whatever its Effect. So the usual TLS-only statement
(`Deny` `s3:*` when `Bool aws:SecureTransport = false`) denies every object request, TLS or not.

Fix: bucket policies are evaluated statement by statement with AWS's rules (explicit Deny wins, then Allow,
else neutral); a statement applies only when its `Condition` block matches the request context. The context
has `aws:SecureTransport = true`: the endpoint listens on 127.0.0.1 only, so requests never leave the host
and the TLS-only statement is satisfied (documented in localcloud/README.md, "Differences from AWS").
Operators: `Bool`, `Null`, `String[Not]Equals[IgnoreCase]`, `String[Not]Like`, `Arn[Not]Equals`,
`Arn[Not]Like`, each with `...IfExists`. A key the context lacks matches only `Null: true`, the negated
operators and `...IfExists` (as on AWS). A statement with an operator outside that list never applies
(so such a Deny denies nothing and such an Allow allows nothing), and is logged once.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3 import models as s3_models

log = logging.getLogger("localcloud.s3")

# The request context every bucket-policy evaluation sees.
REQUEST_CONTEXT = {"aws:securetransport": "true"}

_warned: set[str] = set()


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _matches_one(base: str, expected: str, actual: str) -> bool:
    if base == "Bool":
        return expected.lower() == actual.lower()
    if base in ("StringEquals", "ArnEquals"):
        return expected == actual
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base in ("StringLike", "ArnLike"):
        return fnmatch.fnmatchcase(actual, expected)
    raise KeyError(base)


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_POSITIVE = {"Bool", "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"}


def condition_matches(operator: str, key: str, expected: Any, context: dict[str, str]) -> bool | None:
    """True/False for a supported operator, None when the operator is not supported."""
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    actual = context.get(key.lower())
    if base == "Null":
        return (actual is None) == (str(expected).lower() == "true")
    if base not in _POSITIVE and base not in _NEGATED:
        return None
    if actual is None:
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        return not any(_matches_one(_NEGATED[base], e, actual) for e in _as_list(expected))
    return any(_matches_one(base, e, actual) for e in _as_list(expected))


def statement_applies(statement: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, pairs in (statement.get("Condition") or {}).items():
        for key, expected in pairs.items():
            result = condition_matches(operator, key, expected, context)
            if result is None:
                if operator not in _warned:
                    _warned.add(operator)
                    log.warning("bucket policy condition operator %s is not evaluated; the statement is "
                                "ignored", operator)
                return False
            if not result:
                return False
    return True


def evaluate(policy: str | bytes, action: str, resource: str,
             context: dict[str, str] | None = None) -> PermissionResult:
    doc = json.loads(policy)
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    ctx = REQUEST_CONTEXT if context is None else context
    permitted = False
    for statement in statements:
        if not statement_applies(statement, ctx):
            continue
        unconditional = {k: v for k, v in statement.items() if k != "Condition"}
        result = IAMPolicyStatement(unconditional).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return result
        if result == PermissionResult.PERMITTED:
            permitted = True
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def _get_permission(self, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return evaluate(self.policy, action, resource)


def apply() -> None:
    s3_models.FakeBucket.get_permission = _get_permission
