"""IAM policy evaluation for the endpoint's authorization (localcloud.patches.iam_enforce), AWS's rules.

moto 5.2.5's evaluator (moto/iam/access_control.py IAMPolicyStatement) is not usable as is: a statement
whose Condition does not match is DENIED whatever its Effect, only `StringEquals` is evaluated (any other
operator "matches"), action names are matched case-sensitively, `?` is not a wildcard, `NotResource` is
ignored and regex characters in patterns are not escaped. Here, as the IAM policy evaluation logic page says
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
- a statement applies when its Action/NotAction, Resource/NotResource and every Condition match the request;
- an applicable Deny wins; else an applicable Allow allows; else the request is implicitly denied;
- actions match case-insensitively, resources case-sensitively, `*` and `?` are wildcards
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
Condition operators: `Bool`, `Null`, `String[Not]Equals[IgnoreCase]`, `String[Not]Like`, `Arn[Not]Equals`,
`Arn[Not]Like`, each with `...IfExists`. A key the context lacks matches only `Null: true`, the negated
operators and `...IfExists` (as on AWS). A statement with another operator never applies and is logged
once, so such an Allow allows nothing (and such a Deny denies nothing). patches/s3_policy.py evaluates
bucket policies with the same functions.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("localcloud.iam")

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"
_warned: set[str] = set()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _any_match(patterns: Iterable[str], value: str, ignore_case: bool) -> bool:
    return any(wildcard_match(str(p), value, ignore_case=ignore_case) for p in patterns)


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
    """True/False for a supported operator, None when the operator is not supported. `context` keys are
    lowercase."""
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
        return not any(_matches_one(_NEGATED[base], str(e), actual) for e in _as_list(expected))
    return any(_matches_one(base, str(e), actual) for e in _as_list(expected))


def _conditions_match(statement: dict[str, Any], context: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, pairs in (statement.get("Condition") or {}).items():
        for key, expected in pairs.items():
            result = condition_matches(operator, key, expected, lowered)
            if result is None:
                if operator not in _warned:
                    _warned.add(operator)
                    log.warning("IAM condition operator %s is not evaluated by the endpoint; statements using it "
                                "never apply", operator)
                return False
            if not result:
                return False
    return True


def statement_applies(statement: dict[str, Any], action: str, resource: str | None,
                      context: dict[str, str]) -> bool:
    """`resource` None: the request's resource is not derived (action-level evaluation, as moto does)."""
    if "NotAction" in statement:
        if _any_match(_as_list(statement["NotAction"]), action, True):
            return False
    elif not _any_match(_as_list(statement.get("Action")), action, True):
        return False
    if resource is None:
        pass
    elif "NotResource" in statement:
        if _any_match(_as_list(statement["NotResource"]), resource, False):
            return False
    elif "Resource" in statement and not _any_match(_as_list(statement["Resource"]), resource, False):
        return False
    return _conditions_match(statement, context)


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return _as_list(policy.get("Statement"))


def evaluate(policies: Iterable[dict[str, Any]], action: str, resource: str | None,
             context: dict[str, str] | None = None) -> str:
    """ALLOW, DENY (an applicable Deny statement) or IMPLICIT_DENY, for identity-based policies."""
    allowed = False
    for policy in policies:
        for statement in _statements(policy):
            if not statement_applies(statement, action, resource, context or {}):
                continue
            if statement.get("Effect") == "Deny":
                return DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return ALLOW if allowed else IMPLICIT_DENY


def _principal_matches(expected: Any, principal: dict[str, str | list[str]]) -> bool:
    if expected == "*":
        return True
    if not isinstance(expected, dict):
        return False
    for kind, values in principal.items():
        candidates = _as_list(expected.get(kind))
        if "*" in candidates or any(v in candidates for v in _as_list(values)):
            return True
    return False


def evaluate_trust(policy: dict[str, Any], action: str, principal: dict[str, str | list[str]],
                   context: dict[str, str] | None = None) -> str:
    """A role trust policy (resource-based: Principal/NotPrincipal decide whom a statement concerns).
    `principal` is e.g. {"Service": "lambda.amazonaws.com"} or {"AWS": [role ARN, account root ARN, account id]}."""
    allowed = False
    for statement in _statements(policy):
        if "NotPrincipal" in statement:
            if _principal_matches(statement["NotPrincipal"], principal):
                continue
        elif not _principal_matches(statement.get("Principal"), principal):
            continue
        if not statement_applies({k: v for k, v in statement.items() if k not in ("Resource", "NotResource")},
                                 action, "*", context or {}):
            continue
        if statement.get("Effect") == "Deny":
            return DENY
        if statement.get("Effect") == "Allow":
            allowed = True
    return ALLOW if allowed else IMPLICIT_DENY
