"""S3 PutBucketLogging does not check the target bucket's permissions (moto 5.2.5).

Gap: moto rejects PutBucketLogging with `InvalidTargetBucketForLogging` unless the target bucket's policy
already has an Allow statement for `logging.s3.amazonaws.com` (or the log-delivery group ACL), and its check
crashes (AttributeError -> HTTP 500) on any statement whose `Principal` is a string such as `"*"` (a TLS-only
Deny). Terraform creates `aws_s3_bucket_logging` and the target's `aws_s3_bucket_policy` in parallel, so
the apply fails on whichever comes first. The endpoint delivers no access logs at all, so the check guards
nothing here: it is skipped (target existence and the same-region rule are still enforced by moto).
"""

from __future__ import annotations

from moto.s3 import models as s3_models


def _log_permissions_enabled_policy(target_bucket, target_prefix) -> bool:
    return True


def apply() -> None:
    s3_models.FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)
