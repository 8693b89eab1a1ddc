"""STS GetCallerIdentity of the default (unknown-key) caller is an IAM user ARN (moto 5.2.5).

Gap: for credentials moto did not issue (the fake `test/test` every client uses), moto answers
`arn:aws:sts::<account>:user/moto`. AWS never returns an `sts` ARN for a user: an IAM user is
`arn:aws:iam::<account>:user/<name>` (only assumed-role sessions have `sts` ARNs). Terraform roots that make
the caller a Lake Formation admin (via `aws_iam_session_context.issuer_arn`) validate that ARN as an IAM
role/user ARN, so the malformed one fails the plan. Now `arn:<partition>:iam::<account>:user/moto`.
"""

from __future__ import annotations

import re

from moto.sts import models as sts_models

_orig_get_caller_identity = sts_models.STSBackend.get_caller_identity
_DEFAULT_USER = re.compile(r"^arn:([a-z-]+):sts::([0-9]{12}):user/(moto)$")


def _get_caller_identity(self, access_key_id: str, region: str) -> tuple[str, str, str]:
    user_id, arn, account_id = _orig_get_caller_identity(self, access_key_id, region)
    arn = _DEFAULT_USER.sub(r"arn:\1:iam::\2:user/\3", arn)
    return user_id, arn, account_id


def apply() -> None:
    sts_models.STSBackend.get_caller_identity = _get_caller_identity
