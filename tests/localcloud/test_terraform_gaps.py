"""The moto gaps that `terraform apply/destroy` hits, as filled by localcloud.patches."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.localcloud


def test_s3tables_bucket_maintenance_encryption_policy(endpoint):
    s3t = endpoint.client("s3tables")
    arn = s3t.create_table_bucket(name="tb-gaps", encryptionConfiguration={
        "sseAlgorithm": "aws:kms", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"})["arn"]
    assert s3t.get_table_bucket_encryption(tableBucketARN=arn)["encryptionConfiguration"]["sseAlgorithm"] == "aws:kms"
    default = s3t.get_table_bucket_maintenance_configuration(tableBucketARN=arn)["configuration"]
    assert default["icebergUnreferencedFileRemoval"]["status"] == "enabled"
    value = {"status": "enabled", "settings": {"icebergUnreferencedFileRemoval": {"unreferencedDays": 7,
                                                                                  "nonCurrentDays": 14}}}
    s3t.put_table_bucket_maintenance_configuration(tableBucketARN=arn, type="icebergUnreferencedFileRemoval",
                                                   value=value)
    got = s3t.get_table_bucket_maintenance_configuration(tableBucketARN=arn)["configuration"]
    assert got["icebergUnreferencedFileRemoval"] == value
    with pytest.raises(s3t.exceptions.NotFoundException):
        s3t.get_table_bucket_policy(tableBucketARN=arn)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3tables:*",
         "Resource": arn}]})
    s3t.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=policy)
    assert s3t.get_table_bucket_policy(tableBucketARN=arn)["resourcePolicy"] == policy
    s3t.delete_table_bucket_policy(tableBucketARN=arn)
    with pytest.raises(s3t.exceptions.NotFoundException):
        s3t.get_table_bucket_policy(tableBucketARN=arn)
    s3t.create_namespace(tableBucketARN=arn, namespace=["ns"])
    s3t.create_table(tableBucketARN=arn, namespace="ns", name="t", format="ICEBERG")
    cfg = s3t.get_table_maintenance_configuration(tableBucketARN=arn, namespace="ns", name="t")["configuration"]
    assert cfg["icebergCompaction"]["status"] == "enabled"
    assert s3t.get_table_encryption(tableBucketARN=arn, namespace="ns", name="t")["encryptionConfiguration"] == {
        "sseAlgorithm": "AES256"}


def test_sqs_redrive_policy_is_compact_and_policy_survives(endpoint):
    sqs = endpoint.client("sqs")
    dlq = sqs.create_queue(QueueName="gaps-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]})
    q = sqs.create_queue(QueueName="gaps-q", Attributes={
        "Policy": policy, "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})})[
        "QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=q, Attributes={"VisibilityTimeout": "60"})
    attrs = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}
    assert " " not in attrs["RedrivePolicy"]
    assert attrs["Policy"] == policy
    assert attrs["VisibilityTimeout"] == "60"


def test_lakeformation_second_revoke_is_invalid_input(endpoint):
    lf = endpoint.client("lakeformation")
    principal = {"DataLakePrincipalIdentifier": "arn:aws:iam::123456789012:role/r"}
    resource = {"Database": {"Name": "gapsdb"}}
    lf.grant_permissions(Principal=principal, Resource=resource, Permissions=["DESCRIBE"])
    lf.revoke_permissions(Principal=principal, Resource=resource, Permissions=["DESCRIBE"])
    with pytest.raises(lf.exceptions.InvalidInputException):
        lf.revoke_permissions(Principal=principal, Resource=resource, Permissions=["DESCRIBE"])


def test_aws_managed_policies_are_loaded(endpoint):
    iam = endpoint.client("iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == "AWSGlueServiceRole"
