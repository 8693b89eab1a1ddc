"""What one request must be authorized for: (IAM action, resource ARN, condition context) triples.

moto 5.2.5 authorizes the action only (resource `*`) except S3, SQS, IAM and STS (`_determine_resource`).
Here the resource ARNs come from each service's Service Authorization Reference page
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
- Glue (list_awsglue.html; "Specifying AWS Glue resource ARNs", glue-specifying-resource-arns.html: "All
  operations performed on a Data Catalog resource require permission on the resource and all the ancestors
  of that resource", and deletes also on the children): catalog, database and table ARNs; job ARNs.
- Step Functions (list_awsstepfunctions.html): stateMachine ARN for StartExecution/DescribeStateMachine,
  execution ARN for DescribeExecution/StopExecution/GetExecutionHistory.
- Lambda (list_awslambda.html): function ARN (with the qualifier when one is given); Invoke is
  lambda:InvokeFunction.
- KMS (list_awskeymanagementservice.html): key ARN (aliases resolved; Decrypt: the key in the ciphertext).
- S3 Tables (list_amazons3tables.html): table bucket ARN, table ARN.
- SNS (list_amazonsns.html): topic ARN; SNS/SQS destinations encrypted with a customer managed KMS key also
  need kms:GenerateDataKey and kms:Decrypt on it (sns-key-management.html, sqs-key-management.html).
  CloudWatch Logs (list_amazoncloudwatchlogs.html): log-group and
  log-stream ARNs. Athena (list_amazonathena.html): workgroup ARN.
- S3 (list_amazons3.html; "Protecting data with SSE-KMS", UsingKMSEncryption.html): moto's bucket/object ARN,
  plus the `s3:prefix` condition key of ListBucket/ListBucketVersions, GetObjectVersion for versioned reads,
  s3:GetObject(Version) on a CopyObject source, s3:DeleteObject(Version) on each key of DeleteObjects, and
  kms:GenerateDataKey (writes) / kms:Decrypt (reads, multipart writes) on the object's KMS key.
- iam:PassRole with `iam:PassedToService` (id_roles_use_passrole.html) when a request hands a role to a
  service: a Glue view's Definer, a function's Role, a job's Role, a state machine's roleArn.
Actions not listed here are authorized on the action alone (any Resource pattern matches), as moto does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

log = logging.getLogger("localcloud.iam")

# Credential-scope signing name -> IAM service prefix, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch", "execute-api": "execute-api"}
# API operation -> IAM action, where they differ.
ACTION_ALIASES = {
    "lambda": {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction",
               "ListVersionsByFunction": "ListVersionsByFunction"},
}


@dataclass(frozen=True)
class Check:
    action: str  # service:Action
    resource: str | None  # None: the action has no resource derivation here; any Resource pattern matches
    context: dict[str, str] = field(default_factory=dict)


def _json_body(resp: Any) -> dict[str, Any]:
    body = getattr(resp, "body", None)
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:
            return {}
    if not body or not isinstance(body, str) or not body.lstrip().startswith("{"):
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def params(resp: Any) -> dict[str, Any]:
    """Request parameters from the URI labels, the query string / form and the JSON body."""
    out: dict[str, Any] = {}
    for k, v in (getattr(resp, "querystring", None) or {}).items():
        out[k] = v[0] if isinstance(v, list) and v else v
    for k, v in (getattr(resp, "uri_match", None) or {}).items():
        out[k] = unquote(v) if isinstance(v, str) else v
    out.update(_json_body(resp))
    return out


class _GlueArns:
    """ARNs in the account's catalog, or in a federated S3 Tables child catalog when CatalogId is
    `<account>:s3tablescatalog/<bucket>` (catalog/s3tablescatalog/<bucket>, database/s3tablescatalog/<bucket>/<db>,
    table/s3tablescatalog/<bucket>/<db>/<table>, glue-specifying-resource-arns.html)."""

    def __init__(self, region: str, account: str, catalog_id: str | None):
        owner, _, child = (catalog_id or account).partition(":")
        self.base = f"arn:aws:glue:{region}:{owner}"
        self.child = f"{child}/" if child else ""

    def catalog(self) -> str:
        return f"{self.base}:catalog/{self.child.rstrip('/')}" if self.child else f"{self.base}:catalog"

    def database(self, name: str | None) -> str:
        return f"{self.base}:database/{self.child}{name}"

    def table(self, db: str | None, name: str | None) -> str:
        return f"{self.base}:table/{self.child}{db}/{name}"


def _glue(region: str, account: str, action: str, p: dict[str, Any]) -> list[str] | None:
    arns = _GlueArns(region, account, p.get("CatalogId"))
    catalog = arns.catalog()
    db_name = p.get("DatabaseName")
    if action in ("GetTable", "UpdateTable", "DeleteTable", "GetTableVersion", "GetTableVersions",
                  "DeleteTableVersion", "BatchDeleteTableVersion", "GetPartition", "GetPartitions",
                  "BatchGetPartition", "CreatePartition", "BatchCreatePartition", "UpdatePartition",
                  "DeletePartition", "BatchDeletePartition"):
        name = p.get("Name") or p.get("TableName") or (p.get("TableInput") or {}).get("Name")
        return [catalog, arns.database(db_name), arns.table(db_name, name)]
    if action == "CreateTable":
        name = (p.get("TableInput") or {}).get("Name")
        return [catalog, arns.database(db_name), arns.table(db_name, name)]
    if action == "BatchDeleteTable":
        return [catalog, arns.database(db_name)] + [
            arns.table(db_name, t) for t in p.get("TablesToDelete") or []]
    if action in ("GetTables", "SearchTables"):
        return [catalog, arns.database(db_name), arns.table(db_name, "*")] if db_name else [catalog]
    if action in ("GetDatabase", "UpdateDatabase"):
        return [catalog, arns.database(p.get("Name"))]
    if action == "CreateDatabase":
        return [catalog, arns.database((p.get("DatabaseInput") or {}).get("Name"))]
    if action == "DeleteDatabase":
        return [catalog, arns.database(p.get("Name")), arns.table(p.get("Name"), "*")]
    if action in ("GetDatabases", "GetCatalog", "GetCatalogs"):
        return [catalog]
    if action in ("StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun", "GetJob", "UpdateJob", "DeleteJob",
                  "GetJobBookmark", "ResetJobBookmark"):
        return [f"arn:aws:glue:{region}:{account}:job/{p.get('JobName')}"]
    return None


def _arn_from_name(name: str, region: str, account: str, kind: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:{kind}:{name}"


def _lambda(region: str, account: str, action: str, p: dict[str, Any], resp: Any) -> list[str] | None:
    name = p.get("FunctionName") or p.get("function_name")
    if not name:
        path = getattr(resp, "path", "") or ""
        parts = urlparse(path).path.split("/")
        if "functions" in parts and parts.index("functions") + 1 < len(parts):
            name = unquote(parts[parts.index("functions") + 1])
    if not name:
        return None
    arn = _arn_from_name(name, region, account, "function")
    qualifier = p.get("Qualifier")
    if qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    return [arn]


def _states(action: str, p: dict[str, Any]) -> list[str] | None:
    for key in ("executionArn", "stateMachineArn", "mapRunArn", "resourceArn"):
        if p.get(key):
            return [p[key]]
    return None


def kms_key_arn(account: str, region: str, key_id: str) -> str:
    """Any key id form (id, ARN, alias name or ARN) -> the key ARN; the input when moto has no such key."""
    from moto.kms.models import kms_backends

    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    try:
        return kms_backends[account][region].describe_key(key_id).arn
    except Exception:  # noqa: BLE001 - unknown key: the service itself reports NotFound
        return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key_id}"


def _kms(region: str, account: str, action: str, p: dict[str, Any]) -> list[str] | None:
    key_id = p.get("KeyId") or p.get("DestinationKeyId")
    if not key_id and p.get("CiphertextBlob"):
        import base64

        from moto.kms.utils import _deserialize_ciphertext_blob

        try:
            key_id = _deserialize_ciphertext_blob(base64.b64decode(p["CiphertextBlob"])).key_id
        except Exception:  # noqa: BLE001 - not one of the endpoint's ciphertexts: KMS rejects it
            return None
    return [kms_key_arn(account, region, key_id)] if key_id else None


def _s3tables(region: str, account: str, action: str, p: dict[str, Any]) -> list[str] | None:
    bucket_arn = p.get("tableBucketARN")
    if not bucket_arn:
        return None
    bucket_arn = unquote(bucket_arn)
    namespace, name = p.get("namespace"), p.get("name")
    if isinstance(namespace, list):
        namespace = namespace[0] if namespace else None
    if name and namespace and action != "CreateTable":
        from moto.s3tables.models import s3tables_backends

        try:
            return [s3tables_backends[account][region].get_table(bucket_arn, namespace, name).arn]
        except Exception:  # noqa: BLE001 - missing table: the service answers NotFound
            return [f"{bucket_arn}/table/{name}"]
    return [bucket_arn]


def _logs(region: str, account: str, action: str, p: dict[str, Any]) -> list[str] | None:
    group = p.get("logGroupName")
    if not group:
        return None
    base = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    if action in ("PutLogEvents", "GetLogEvents") and p.get("logStreamName"):
        return [f"{base}:log-stream:{p['logStreamName']}"]
    return [base]


def _athena(region: str, account: str, action: str, p: dict[str, Any]) -> list[str] | None:
    workgroup = p.get("WorkGroup")
    if not workgroup and p.get("QueryExecutionId"):
        from moto.athena.models import athena_backends

        execution = athena_backends[account][region].executions.get(p["QueryExecutionId"])
        workgroup = getattr(execution, "workgroup", None)
        workgroup = getattr(workgroup, "name", workgroup)
    if action in ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution",
                  "GetWorkGroup"):
        return [f"arn:aws:athena:{region}:{account}:workgroup/{workgroup or 'primary'}"]
    return None


# Requests that hand a role to a service: (service prefix, action) -> (parameter path, receiving service).
_PASS_ROLE = {
    ("lambda", "CreateFunction"): (("Role",), "lambda.amazonaws.com"),
    ("lambda", "UpdateFunctionConfiguration"): (("Role",), "lambda.amazonaws.com"),
    ("glue", "CreateJob"): (("Role",), "glue.amazonaws.com"),
    ("glue", "UpdateJob"): (("JobUpdate", "Role"), "glue.amazonaws.com"),
    ("glue", "CreateTable"): (("TableInput", "ViewDefinition", "Definer"), "glue.amazonaws.com"),
    ("glue", "UpdateTable"): (("TableInput", "ViewDefinition", "Definer"), "glue.amazonaws.com"),
    ("states", "CreateStateMachine"): (("roleArn",), "states.amazonaws.com"),
    ("states", "UpdateStateMachine"): (("roleArn",), "states.amazonaws.com"),
}


def _passed_role(prefix: str, action: str, p: dict[str, Any]) -> Check | None:
    spec = _PASS_ROLE.get((prefix, action))
    if not spec:
        return None
    value: Any = p
    for key in spec[0]:
        value = value.get(key) if isinstance(value, dict) else None
    if not value:
        return None
    return Check("iam:PassRole", value, {"iam:PassedToService": spec[1]})


def _encrypted_destination(prefix: str, action: str, resources: list[str] | None, region: str,
                           account: str) -> list[Check]:
    """Publishing to an SNS topic or sending to an SQS queue encrypted with a customer managed key needs
    kms:GenerateDataKey and kms:Decrypt on that key (AWS managed keys, alias/aws/*, grant it by key policy):
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html."""
    key_id = None
    if prefix == "sns" and action == "Publish" and resources:
        from moto.sns.models import sns_backends

        topic = sns_backends[account][region].topics.get(resources[0])
        key_id = getattr(topic, "kms_master_key_id", None)
    elif prefix == "sqs" and action in ("SendMessage", "SendMessageBatch") and resources and resources[0] != "*":
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[account][region].get_queue(resources[0].rsplit(":", 1)[-1])
        key_id = getattr(queue, "kms_master_key_id", None)
    if not key_id or key_id.startswith("alias/aws/"):
        return []
    key_arn = kms_key_arn(account, region, key_id)
    return [Check("kms:GenerateDataKey", key_arn), Check("kms:Decrypt", key_arn)]


def service_checks(resp: Any, signing_name: str, operation: str, region: str, account: str) -> list[Check]:
    """Checks for a non-S3 request (JSON, query and REST-JSON services)."""
    prefix = IAM_PREFIX.get(signing_name, signing_name)
    action = ACTION_ALIASES.get(prefix, {}).get(operation, operation)
    p = params(resp)
    resources: list[str] | None = None
    if prefix == "glue":
        resources = _glue(region, account, action, p)
    elif prefix == "lambda":
        resources = _lambda(region, account, action, p, resp)
    elif prefix == "states":
        resources = _states(action, p)
    elif prefix == "kms":
        resources = _kms(region, account, action, p)
    elif prefix == "s3tables":
        resources = _s3tables(region, account, action, p)
    elif prefix == "sns":
        arn = p.get("TopicArn") or p.get("TargetArn")
        resources = [arn] if arn else None
    elif prefix == "logs":
        resources = _logs(region, account, action, p)
    elif prefix == "athena":
        resources = _athena(region, account, action, p)
    elif prefix in ("iam", "sts", "sqs") and hasattr(resp, "_determine_resource"):
        resources = [resp._determine_resource()]
    context = {}
    if prefix == "cloudwatch" and action == "PutMetricData":
        # list_amazoncloudwatch.html: PutMetricData has no resource type; cloudwatch:namespace scopes it.
        try:
            namespace = resp._get_param("Namespace")
        except Exception:  # noqa: BLE001 - a body moto cannot parse here: CloudWatch rejects it itself
            namespace = p.get("Namespace")
        if namespace:
            context["cloudwatch:namespace"] = str(namespace)
    checks = [Check(f"{prefix}:{action}", r, context) for r in (resources or [None])]
    checks += _encrypted_destination(prefix, action, resources, region, account)
    passed = _passed_role(prefix, action, p)
    if passed:
        checks.append(passed)
    return checks


# ---------------------------------------------------------------- S3


def _header(resp: Any, name: str) -> str | None:
    headers = getattr(resp, "headers", None) or {}
    value = headers.get(name)
    if value is None:
        lname = name.lower()
        value = next((v for k, v in dict(headers).items() if k.lower() == lname), None)
    return value


def _object_kms_key(account: str, region: str, bucket: str, key: str, version_id: str | None) -> str | None:
    from moto.s3.models import s3_backends

    try:
        obj = s3_backends[account]["aws"].get_object(bucket, key, version_id=version_id)
    except Exception:  # noqa: BLE001 - missing object: S3 answers NoSuchKey
        return None
    if obj is None or getattr(obj, "encryption", None) != "aws:kms" or not obj.kms_key_id:
        return None
    return kms_key_arn(account, region, obj.kms_key_id)


def _write_kms_key(resp: Any, account: str, region: str, bucket: str) -> str | None:
    """The KMS key a write into `bucket` encrypts with: the request's SSE-KMS header, else the bucket default."""
    from moto.s3.models import s3_backends

    if (_header(resp, "x-amz-server-side-encryption") or "") in ("aws:kms", "aws:kms:dsse"):
        key = _header(resp, "x-amz-server-side-encryption-aws-kms-key-id")
        return kms_key_arn(account, region, key) if key else None
    if _header(resp, "x-amz-server-side-encryption"):
        return None  # AES256 requested explicitly
    try:
        encryption = s3_backends[account]["aws"].get_bucket(bucket).encryption
    except Exception:  # noqa: BLE001
        return None
    default = ((encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault") or {}
    if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse") and default.get("KMSMasterKeyID"):
        return kms_key_arn(account, region, default["KMSMasterKeyID"])
    return None


def s3_checks(resp: Any, action: str, resource: str, region: str, account: str) -> list[Check]:
    """Checks for an S3 request; `action`/`resource` are moto's (s3:GetObject, arn:aws:s3:::bucket/key)."""
    query = {k: (v[0] if isinstance(v, list) and v else v) for k, v in (getattr(resp, "querystring", None) or {}).items()}
    method = getattr(resp, "method", "GET")
    bucket_key = resource.split(":::", 1)[1] if ":::" in resource else ""
    bucket, _, key = bucket_key.partition("/")
    context: dict[str, str] = {}
    checks: list[Check] = []
    if action in ("s3:ListBucket", "s3:ListBucketVersions"):
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = str(query[name])
        if "prefix" not in query:
            context["s3:prefix"] = ""
    if action == "s3:GetObject" and "versionId" in query:
        action = "s3:GetObjectVersion"
    if action == "s3:DeleteObject" and method == "POST" and "delete" in query and not key:
        import xmltodict

        try:
            body = xmltodict.parse(getattr(resp, "raw_body", b"") or b"")
            objects = body["Delete"].get("Object") or []
        except Exception:  # noqa: BLE001 - malformed XML: S3 answers MalformedXML
            objects = []
        for obj in objects if isinstance(objects, list) else [objects]:
            verb = "s3:DeleteObjectVersion" if obj.get("VersionId") else "s3:DeleteObject"
            checks.append(Check(verb, f"arn:aws:s3:::{bucket}/{obj.get('Key')}"))
        return checks or [Check(action, resource)]
    checks.append(Check(action, resource, context))
    if not key:
        return checks
    copy_source = _header(resp, "x-amz-copy-source")
    if action == "s3:PutObject" and copy_source and method == "PUT":
        src = unquote(copy_source.lstrip("/"))
        src_path, _, src_query = src.partition("?")
        src_version = src_query.split("versionId=", 1)[1].split("&")[0] if "versionId=" in src_query else None
        checks.append(Check("s3:GetObjectVersion" if src_version else "s3:GetObject", f"arn:aws:s3:::{src_path}"))
        src_bucket, _, src_key = src_path.partition("/")
        src_kms = _object_kms_key(account, region, src_bucket, src_key, src_version)
        if src_kms:
            checks.append(Check("kms:Decrypt", src_kms))
    if action == "s3:PutObject" and method in ("PUT", "POST"):
        kms = _write_kms_key(resp, account, region, bucket)
        if "uploadId" in query or "uploads" in query:
            from moto.s3.models import s3_backends

            upload = None
            if "uploadId" in query:
                try:
                    upload = s3_backends[account]["aws"].get_bucket(bucket).multiparts.get(query["uploadId"])
                except Exception:  # noqa: BLE001
                    upload = None
            if upload is not None and getattr(upload, "kms_key_id", None):
                kms = kms_key_arn(account, region, upload.kms_key_id)
            if kms:
                checks.append(Check("kms:Decrypt", kms))
        if kms:
            checks.append(Check("kms:GenerateDataKey", kms))
    if action in ("s3:GetObject", "s3:GetObjectVersion") and method == "GET" and not any(
            q in query for q in ("acl", "tagging", "uploadId", "attributes")):
        kms = _object_kms_key(account, region, bucket, key, query.get("versionId"))
        if kms:
            checks.append(Check("kms:Decrypt", kms))
    return checks
