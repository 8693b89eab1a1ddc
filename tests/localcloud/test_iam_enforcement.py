"""IAM enforcement in the endpoint: identity policies evaluated per request, with resource ARNs and conditions.

One endpoint for the module; each test makes its own role (inline policy) and signs as that role through
STS AssumeRole credentials, as the executors' roles do. The admin keys (test/test) set things up.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import REGION, make_zip, start_endpoint

ACCOUNT = "123456789012"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"


def _denied(call, code: str = "AccessDeniedException") -> str:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    return error["Message"]


class Role:
    """A role with one inline policy; `client(service)` signs as an assumed-role session of it."""

    def __init__(self, ep, statements: list[dict], trust_principal: dict | None = None):
        self.ep = ep
        self.name = f"r-{uuid.uuid4().hex[:10]}"
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": trust_principal or {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
        iam = ep.client("iam")
        self.arn = iam.create_role(RoleName=self.name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.put(statements)
        creds = ep.client("sts").assume_role(RoleArn=self.arn, RoleSessionName="tester")["Credentials"]
        self.keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                     "aws_session_token": creds["SessionToken"]}
        self.session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.name}/tester"

    def put(self, statements: list[dict]) -> None:
        self.ep.client("iam").put_role_policy(RoleName=self.name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.ep.url, **self.keys)

    def denial(self, action: str, resource: str) -> str:
        return (f"User: {self.session_arn} is not authorized to perform: {action} on resource: {resource} "
                f"because no identity-based policy allows the {action} action")


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    endpoint, stop = start_endpoint(tmp_path_factory.mktemp("iam"))
    yield endpoint
    stop()


def test_admin_keys_are_not_evaluated_and_unknown_keys_are_refused(ep):
    ep.client("s3").create_bucket(Bucket="iam-admin-bucket")  # admin: no policy anywhere allows this
    stranger = {"region_name": REGION, "endpoint_url": ep.url, "aws_access_key_id": "AKIANOTISSUED0000000",
                "aws_secret_access_key": "x"}
    _denied(lambda: boto3.client("glue", **stranger).get_databases(), "UnrecognizedClientException")
    _denied(lambda: boto3.client("sts", **stranger).get_caller_identity(), "InvalidClientTokenId")


def test_wrong_session_token_is_refused(ep):
    role = Role(ep, [{"Effect": "Allow", "Action": "glue:GetDatabases", "Resource": "*"}])
    forged = boto3.client("glue", region_name=REGION, endpoint_url=ep.url, aws_access_key_id=role.keys[
        "aws_access_key_id"], aws_secret_access_key=role.keys["aws_secret_access_key"], aws_session_token="forged")
    _denied(forged.get_databases, "UnrecognizedClientException")
    role.client("glue").get_databases()


def test_glue_table_actions_need_catalog_database_and_table(ep):
    glue = ep.client("glue")
    for db in ("lake", "other"):
        glue.create_database(DatabaseInput={"Name": db})
        glue.create_table(DatabaseName=db, TableInput={"Name": "t"})
    role = Role(ep, [{"Effect": "Allow", "Action": ["glue:GetTable", "glue:CreateTable"],
                      "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/lake", f"{GLUE}:table/lake/t",
                                   f"{GLUE}:table/lake/new_*"]}])
    g = role.client("glue")
    assert g.get_table(DatabaseName="lake", Name="t")["Table"]["Name"] == "t"
    # the database of another table is not granted: the first resource that fails is named
    assert _denied(lambda: g.get_table(DatabaseName="other", Name="t")) == role.denial(
        "glue:GetTable", f"{GLUE}:database/other")
    g.create_table(DatabaseName="lake", TableInput={"Name": "new_1"})
    assert _denied(lambda: g.create_table(DatabaseName="lake", TableInput={"Name": "x"})) == role.denial(
        "glue:CreateTable", f"{GLUE}:table/lake/x")
    # without the catalog ARN nothing in it is allowed (AWS: permission on the resource and all ancestors)
    role.put([{"Effect": "Allow", "Action": "glue:GetTable", "Resource": [f"{GLUE}:database/lake",
                                                                        f"{GLUE}:table/lake/*"]}])
    assert _denied(lambda: g.get_table(DatabaseName="lake", Name="t")) == role.denial(
        "glue:GetTable", f"{GLUE}:catalog")


def test_glue_job_runs_are_authorized_on_the_job_arn(ep):
    glue = ep.client("glue")
    for name in ("job-a", "job-b"):
        glue.create_job(Name=name, Role=f"arn:aws:iam::{ACCOUNT}:role/none",
                        Command={"Name": "glueetl", "ScriptLocation": "s3://nowhere/s.py"})
    role = Role(ep, [{"Effect": "Allow", "Action": "glue:GetJobRuns", "Resource": f"{GLUE}:job/job-a"}])
    role.client("glue").get_job_runs(JobName="job-a")
    assert _denied(lambda: role.client("glue").get_job_runs(JobName="job-b")) == role.denial(
        "glue:GetJobRuns", f"{GLUE}:job/job-b")


def test_explicit_deny_wins_and_actions_match_case_insensitively(ep):
    ep.client("glue").create_database(DatabaseInput={"Name": "deny_db"})
    role = Role(ep, [{"Effect": "Allow", "Action": "GLUE:get*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "glue:GetDatabase", "Resource": f"{GLUE}:database/deny_db"}])
    g = role.client("glue")
    g.get_databases()
    message = _denied(lambda: g.get_database(Name="deny_db"))
    assert message == (f"User: {role.session_arn} is not authorized to perform: glue:GetDatabase on resource: "
                       f"{GLUE}:database/deny_db with an explicit deny in an identity-based policy")


def test_step_functions_start_and_describe_on_their_arns(ep):
    admin_role = f"arn:aws:iam::{ACCOUNT}:role/none"
    sfn = ep.client("stepfunctions")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    a = sfn.create_state_machine(name="sm-a", definition=definition, roleArn=admin_role)["stateMachineArn"]
    b = sfn.create_state_machine(name="sm-b", definition=definition, roleArn=admin_role)["stateMachineArn"]
    execution_prefix = a.replace(":stateMachine:", ":execution:")
    role = Role(ep, [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": a},
                     {"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": f"{execution_prefix}:*"}])
    s = role.client("stepfunctions")
    execution = s.start_execution(stateMachineArn=a)["executionArn"]
    s.describe_execution(executionArn=execution)
    assert _denied(lambda: s.start_execution(stateMachineArn=b)) == role.denial("states:StartExecution", b)
    other = sfn.start_execution(stateMachineArn=b)["executionArn"]
    assert _denied(lambda: s.describe_execution(executionArn=other)) == role.denial(
        "states:DescribeExecution", other)


def test_lambda_invoke_on_the_function_arn(ep):
    lam_role = ep.client("iam").create_role(RoleName="fn-exec", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    lam = ep.client("lambda")
    code = make_zip({"f.py": "def handler(event, context):\n    return {'ok': True}\n"})
    arns = {n: lam.create_function(FunctionName=n, Runtime="python3.11", Role=lam_role, Handler="f.handler",
                                   Code={"ZipFile": code})["FunctionArn"] for n in ("fn-a", "fn-b")}
    role = Role(ep, [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arns["fn-a"]}])
    out = role.client("lambda").invoke(FunctionName="fn-a", Payload=b"{}")
    assert json.loads(out["Payload"].read()) == {"ok": True}
    assert _denied(lambda: role.client("lambda").invoke(FunctionName="fn-b", Payload=b"{}")) == role.denial(
        "lambda:InvokeFunction", arns["fn-b"])


def test_pass_role_needs_the_passed_to_service_condition(ep):
    iam = ep.client("iam")
    passed = iam.create_role(RoleName="passed-exec", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = {"ZipFile": make_zip({"f.py": "def handler(e, c):\n    return 1\n"})}
    create = {"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"}
    role = Role(ep, [create, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": passed,
                              "Condition": {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}}])
    lam = role.client("lambda")
    message = _denied(lambda: lam.create_function(FunctionName="passed-1", Runtime="python3.11", Role=passed,
                                                  Handler="f.handler", Code=code))
    assert message == role.denial("iam:PassRole", passed)
    role.put([create, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": passed,
                       "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}])
    lam.create_function(FunctionName="passed-1", Runtime="python3.11", Role=passed, Handler="f.handler", Code=code)


def test_s3_list_bucket_prefix_condition(ep):
    s3 = ep.client("s3")
    s3.create_bucket(Bucket="iam-prefix")
    for key in ("in/a", "out/a"):
        s3.put_object(Bucket="iam-prefix", Key=key, Body=b"x")
    role = Role(ep, [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::iam-prefix",
                      "Condition": {"StringLike": {"s3:prefix": "in/*"}}}])
    r = role.client("s3")
    assert [o["Key"] for o in r.list_objects_v2(Bucket="iam-prefix", Prefix="in/")["Contents"]] == ["in/a"]
    for prefix in ("out/", ""):
        message = _denied(lambda p=prefix: r.list_objects_v2(Bucket="iam-prefix", Prefix=p), "AccessDenied")
        assert message == role.denial("s3:ListBucket", "arn:aws:s3:::iam-prefix")


def test_s3_delete_objects_is_authorized_per_key(ep):
    s3 = ep.client("s3")
    s3.create_bucket(Bucket="iam-delete")
    for key in ("tmp/a", "keep/a"):
        s3.put_object(Bucket="iam-delete", Key=key, Body=b"x")
    role = Role(ep, [{"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::iam-delete/tmp/*"}])
    r = role.client("s3")
    r.delete_objects(Bucket="iam-delete", Delete={"Objects": [{"Key": "tmp/a"}]})
    message = _denied(lambda: r.delete_objects(Bucket="iam-delete", Delete={"Objects": [{"Key": "keep/a"}]}),
                      "AccessDenied")
    assert message == role.denial("s3:DeleteObject", "arn:aws:s3:::iam-delete/keep/a")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="iam-delete")["Contents"]] == ["keep/a"]


def test_kms_key_arn_and_sse_kms_objects_need_the_key(ep):
    kms = ep.client("kms")
    key = kms.create_key()["KeyMetadata"]
    other = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/lake", TargetKeyId=key["KeyId"])
    s3 = ep.client("s3")
    s3.create_bucket(Bucket="iam-sse")
    s3.put_bucket_encryption(Bucket="iam-sse", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    s3.put_object(Bucket="iam-sse", Key="d/a", Body=b"secret")
    objects = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::iam-sse/*"}
    role = Role(ep, [objects, {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": key["Arn"]}])
    k = role.client("kms")
    assert k.describe_key(KeyId="alias/lake")["KeyMetadata"]["Arn"] == key["Arn"]  # alias -> key ARN
    assert _denied(lambda: k.describe_key(KeyId=other["KeyId"])) == role.denial("kms:DescribeKey", other["Arn"])
    r = role.client("s3")
    assert _denied(lambda: r.put_object(Bucket="iam-sse", Key="d/b", Body=b"x"), "AccessDenied") == role.denial(
        "kms:GenerateDataKey", key["Arn"])
    assert _denied(lambda: r.get_object(Bucket="iam-sse", Key="d/a"), "AccessDenied") == role.denial(
        "kms:Decrypt", key["Arn"])
    role.put([objects, {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": key["Arn"]}])
    r.put_object(Bucket="iam-sse", Key="d/b", Body=b"x")
    assert r.get_object(Bucket="iam-sse", Key="d/a")["Body"].read() == b"secret"


def test_s3_tables_bucket_and_table_arns(ep):
    s3t = ep.client("s3tables")
    bucket = s3t.create_table_bucket(name="iam-tables")["arn"]
    s3t.create_namespace(tableBucketARN=bucket, namespace=["ns"])
    for name in ("t1", "t2"):
        s3t.create_table(tableBucketARN=bucket, namespace="ns", name=name, format="ICEBERG")
    role = Role(ep, [{"Effect": "Allow", "Action": ["s3tables:GetTable", "s3tables:GetTableBucket"],
                      "Resource": [bucket, f"{bucket}/table/t1"]}])
    r = role.client("s3tables")
    r.get_table_bucket(tableBucketARN=bucket)
    r.get_table(tableBucketARN=bucket, namespace="ns", name="t1")
    t2 = s3t.get_table(tableBucketARN=bucket, namespace="ns", name="t2")["tableARN"]
    assert _denied(lambda: r.get_table(tableBucketARN=bucket, namespace="ns", name="t2")) == role.denial(
        "s3tables:GetTable", t2)


def test_sns_publish_on_the_topic_arn(ep):
    sns = ep.client("sns")
    allowed = sns.create_topic(Name="iam-allowed")["TopicArn"]
    other = sns.create_topic(Name="iam-other")["TopicArn"]
    role = Role(ep, [{"Effect": "Allow", "Action": "sns:Publish", "Resource": allowed}])
    role.client("sns").publish(TopicArn=allowed, Message="m")
    assert _denied(lambda: role.client("sns").publish(TopicArn=other, Message="m"), "AccessDenied") == role.denial(
        "sns:Publish", other)


def test_publishing_to_a_topic_encrypted_with_a_customer_key_needs_the_key(ep):
    key = ep.client("kms").create_key()["KeyMetadata"]["Arn"]
    topic = ep.client("sns").create_topic(Name="iam-encrypted", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}
    role = Role(ep, [publish])
    sns = role.client("sns")
    assert _denied(lambda: sns.publish(TopicArn=topic, Message="m"), "AccessDenied") == role.denial(
        "kms:GenerateDataKey", key)
    role.put([publish, {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key}])
    sns.publish(TopicArn=topic, Message="m")


def test_assume_role_needs_the_trust_policy(ep):
    caller = Role(ep, [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    only_lambda = Role(ep, [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
                       trust_principal={"Service": "lambda.amazonaws.com"})
    message = _denied(lambda: caller.client("sts").assume_role(RoleArn=only_lambda.arn, RoleSessionName="x1"),
                      "AccessDenied")
    assert message == caller.denial("sts:AssumeRole", only_lambda.arn)


def test_enforcement_can_be_turned_off(tmp_path):
    endpoint, stop = start_endpoint(tmp_path, {"LOCALCLOUD_IAM": "off"})
    try:
        anyone = boto3.client("glue", region_name=REGION, endpoint_url=endpoint.url,
                              aws_access_key_id="AKIANOTISSUED0000000", aws_secret_access_key="x")
        assert anyone.get_databases()["DatabaseList"] == []
    finally:
        stop()


def test_principal_arn_names_the_user_or_the_role_behind_a_key():
    from moto import mock_aws

    from localcloud import principals

    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="analyst")
        user_key = iam.create_access_key(UserName="analyst")["AccessKey"]["AccessKeyId"]
        role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}))["Role"]
        session = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
        assert principals.principal_arn(user_key) == f"arn:aws:iam::{ACCOUNT}:user/analyst"
        assert principals.principal_arn(session["Credentials"]["AccessKeyId"]) == role["Arn"]
        assert principals.principal_arn("test") is None
        with pytest.raises(LookupError):
            principals.principal_arn("ASIANEVERISSUED00000")


def test_put_metric_data_is_scoped_by_the_namespace_condition(ep):
    role = Role(ep, [{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                      "Condition": {"StringEquals": {"cloudwatch:namespace": "Glue"}}}])
    cw = role.client("cloudwatch")
    cw.put_metric_data(Namespace="Glue", MetricData=[{"MetricName": "m", "Value": 1.0}])
    message = _denied(lambda: cw.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "m", "Value": 1.0}]),
                      "AccessDenied")
    assert message == (f"User: {role.session_arn} is not authorized to perform: cloudwatch:PutMetricData because no "
                       "identity-based policy allows the cloudwatch:PutMetricData action")


def test_glue_calls_in_a_federated_s3_tables_catalog_use_its_arns(ep):
    ep.client("glue").create_database(DatabaseInput={"Name": "fed_ns"})
    child = f"{GLUE}:catalog/s3tablescatalog/tbl-bucket"
    role = Role(ep, [{"Effect": "Allow", "Action": "glue:GetTables", "Resource": [
        child, f"{GLUE}:database/s3tablescatalog/tbl-bucket/fed_ns", f"{GLUE}:table/s3tablescatalog/tbl-bucket/fed_ns/*"]}])
    g = role.client("glue")
    g.get_tables(DatabaseName="fed_ns", CatalogId=f"{ACCOUNT}:s3tablescatalog/tbl-bucket")
    assert _denied(lambda: g.get_tables(DatabaseName="fed_ns")) == role.denial("glue:GetTables", f"{GLUE}:catalog")
