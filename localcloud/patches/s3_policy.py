"""S3 bucket policies: conditions evaluated, with the endpoint's transport counted as secure (moto 5.2.5).

Gap: moto's bucket-policy check (`FakeBucket.get_permission` -> `IAMPolicyStatement.is_action_permitted`)
ignores every condition operator but `StringEquals` (an unknown operator "matches"), and a statement whose
conditions do not match returns DENIED whatever its Effect. So the usual TLS-only statement
(`Deny` `s3:*` when `Bool aws:SecureTransport = false`) denies every object request, TLS or not.

Fix: bucket policies are evaluated statement by statement with AWS's rules (explicit Deny wins, then Allow,
else neutral); a statement applies only when its `Condition` block matches the request context. The context
has `aws:SecureTransport = true`: the endpoint listens on 127.0.0.1 only, so requests never leave the host
and the TLS-only statement is satisfied (documented in localcloud/README.md, "Differences from AWS").
Statements are matched by the endpoint's IAM evaluator (patches/iam_policy.py: actions case-insensitive,
`*`/`?` wildcards, the condition operators it supports); a statement with an operator outside those never
applies (so such a Deny denies nothing and such an Allow allows nothing), and is logged once. The
`Principal` of a statement is not matched: the endpoint evaluates bucket policies for their Deny.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3 import models as s3_models

from . import iam_policy

# The request context every bucket-policy evaluation sees.
REQUEST_CONTEXT = {"aws:securetransport": "true"}

_RESULTS = {iam_policy.ALLOW: PermissionResult.PERMITTED, iam_policy.DENY: PermissionResult.DENIED,
            iam_policy.IMPLICIT_DENY: PermissionResult.NEUTRAL}


def evaluate(policy: str | bytes, action: str, resource: str,
             context: dict[str, str] | None = None) -> PermissionResult:
    """PERMITTED, DENIED (an applicable Deny) or NEUTRAL (nothing applies) for one bucket policy."""
    return _RESULTS[iam_policy.evaluate([json.loads(policy)], action, resource,
                                        REQUEST_CONTEXT if context is None else context)]


def _get_permission(self, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return evaluate(self.policy, action, resource)


def apply() -> None:
    s3_models.FakeBucket.get_permission = _get_permission
