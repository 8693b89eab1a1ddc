"""Unit tests of the endpoint patches the local apply needs (pure functions, no endpoint)."""

from __future__ import annotations

import json

from moto.iam.access_control import PermissionResult

from localcloud.patches import iam_policy, lambda_logging, s3_policy

TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }],
}


def test_tls_only_statement_is_satisfied_on_the_loopback_endpoint():
    assert s3_policy.evaluate(json.dumps(TLS_ONLY), "s3:PutObject", "arn:aws:s3:::b/k") == PermissionResult.NEUTRAL


def test_tls_only_statement_still_denies_insecure_transport():
    ctx = {"aws:securetransport": "false"}
    assert s3_policy.evaluate(json.dumps(TLS_ONLY), "s3:GetObject", "arn:aws:s3:::b/k", ctx) == PermissionResult.DENIED


def test_unconditional_deny_and_unmatched_allow():
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
         "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
    ]}
    doc = json.dumps(policy)
    assert s3_policy.evaluate(doc, "s3:GetObject", "arn:aws:s3:::b/k") == PermissionResult.NEUTRAL
    assert s3_policy.evaluate(doc, "s3:DeleteObject", "arn:aws:s3:::b/k") == PermissionResult.DENIED


def test_condition_operators():
    ctx = {"aws:securetransport": "true"}
    assert iam_policy.condition_matches("Null", "aws:SourceArn", "true", ctx) is True
    assert iam_policy.condition_matches("StringNotEquals", "aws:SourceArn", "x", ctx) is True
    assert iam_policy.condition_matches("StringLike", "aws:SourceArn", "arn:*", ctx) is False
    assert iam_policy.condition_matches("StringLikeIfExists", "aws:SourceArn", "arn:*", ctx) is True
    assert iam_policy.condition_matches("IpAddress", "aws:SourceIp", "10.0.0.0/8", ctx) is None


def test_lambda_logging_defaults_match_aws():
    assert lambda_logging._normalise("f", None) == {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"}
    assert lambda_logging._normalise("f", {"LogFormat": "JSON", "LogGroup": "/x"}) == {
        "LogFormat": "JSON", "LogGroup": "/x", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
