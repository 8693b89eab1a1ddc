"""S3 Tables gaps hit by Terraform (moto 5.2.5).

- Table bucket maintenance configuration, encryption and policy (Put/Get/Delete), table maintenance
  configuration, policy, encryption and maintenance job status are unimplemented (HTTP 500;
  GetTableBucketMaintenanceConfiguration then crashes the AWS provider). They are stored and echoed, with
  AWS's defaults when never set (encryption AES256; bucket: unreferenced file removal enabled 3/10 days;
  table: compaction 512 MB and snapshot management 1 snapshot/120 h, enabled). Nothing is enforced.
- CreateTableBucket and CreateTable drop `encryptionConfiguration`: kept and returned by the Get*Encryption calls.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from moto.s3tables import responses as s3t_responses
from moto.s3tables import urls as s3t_urls
from moto.s3tables.exceptions import NotFoundException

R = s3t_responses.S3TablesResponse
JSON = {"Content-Type": "application/json"}
DEFAULT_ENCRYPTION = {"sseAlgorithm": "AES256"}
BUCKET_MAINTENANCE = {"icebergUnreferencedFileRemoval": {"status": "enabled", "settings": {
    "icebergUnreferencedFileRemoval": {"unreferencedDays": 3, "nonCurrentDays": 10}}}}
TABLE_MAINTENANCE = {
    "icebergCompaction": {"status": "enabled", "settings": {"icebergCompaction": {"targetFileSizeMB": 512}}},
    "icebergSnapshotManagement": {"status": "enabled", "settings": {
        "icebergSnapshotManagement": {"minSnapshotsToKeep": 1, "maxSnapshotAgeHours": 120}}},
}

# Every sub-resource path routes to the same dispatcher; the operation comes from botocore's model.
EXTRA_PATHS = {
    "{0}/buckets/(?P<tableBucketARN>.+)/(?P<subresource>encryption|policy|maintenance)$": R.dispatch,
    "{0}/buckets/(?P<tableBucketARN>.+)/maintenance/(?P<type>[^/]+)$": R.dispatch,
    "{0}/tables/(?P<tablePath>.+)/(?P<subresource>encryption|policy|maintenance|maintenance-job-status)$":
        R.dispatch,
    "{0}/tables/(?P<tablePath>.+)/maintenance/(?P<type>[^/]+)$": R.dispatch,
}


def _uri(self, key: str) -> str:
    value = (self.uri_match or {}).get(key)
    if value is None:
        raise NotFoundException(f"missing {key}")
    return unquote(value)


def _bucket(self):
    return self.s3tables_backend.get_table_bucket(table_bucket_arn=_uri(self, "tableBucketARN"))


def _table(self):
    return self.s3tables_backend.get_table(_uri(self, "tableBucketARN"), _uri(self, "namespace"), _uri(self, "name"))


def _ok(body: dict[str, Any] | None = None, status: int = 200):
    return status, JSON, json.dumps(body) if body is not None else ""


def _body(self) -> dict[str, Any]:
    return json.loads(self.body or b"{}")


# ---- table buckets


def put_table_bucket_maintenance_configuration(self):
    bucket = _bucket(self)
    cfg = dict(getattr(bucket, "lc_maintenance", BUCKET_MAINTENANCE))
    cfg[_uri(self, "type")] = _body(self)["value"]
    bucket.lc_maintenance = cfg
    return _ok(None, 204)


def get_table_bucket_maintenance_configuration(self):
    bucket = _bucket(self)
    return _ok({"tableBucketARN": bucket.arn, "configuration": getattr(bucket, "lc_maintenance", BUCKET_MAINTENANCE)})


def put_table_bucket_encryption(self):
    _bucket(self).lc_encryption = _body(self)["encryptionConfiguration"]
    return _ok(None, 204)


def get_table_bucket_encryption(self):
    return _ok({"encryptionConfiguration": getattr(_bucket(self), "lc_encryption", None) or DEFAULT_ENCRYPTION})


def delete_table_bucket_encryption(self):
    _bucket(self).lc_encryption = None
    return _ok(None, 204)


def put_table_bucket_policy(self):
    _bucket(self).lc_policy = _body(self)["resourcePolicy"]
    return _ok(None, 200)


def get_table_bucket_policy(self):
    policy = getattr(_bucket(self), "lc_policy", None)
    if not policy:
        raise NotFoundException("The specified table bucket policy does not exist.")
    return _ok({"resourcePolicy": policy})


def delete_table_bucket_policy(self):
    _bucket(self).lc_policy = None
    return _ok(None, 204)


# ---- tables


def put_table_maintenance_configuration(self):
    table = _table(self)
    cfg = dict(getattr(table, "lc_maintenance", TABLE_MAINTENANCE))
    cfg[_uri(self, "type")] = _body(self)["value"]
    table.lc_maintenance = cfg
    return _ok(None, 204)


def get_table_maintenance_configuration(self):
    table = _table(self)
    return _ok({"tableARN": table.arn, "configuration": getattr(table, "lc_maintenance", TABLE_MAINTENANCE)})


def get_table_maintenance_job_status(self):
    table = _table(self)
    return _ok({"tableARN": table.arn, "status": {}})


def get_table_encryption(self):
    return _ok({"encryptionConfiguration": getattr(_table(self), "lc_encryption", None) or DEFAULT_ENCRYPTION})


def put_table_policy(self):
    _table(self).lc_policy = _body(self)["resourcePolicy"]
    return _ok(None, 200)


def get_table_policy(self):
    policy = getattr(_table(self), "lc_policy", None)
    if not policy:
        raise NotFoundException("The specified table policy does not exist.")
    return _ok({"resourcePolicy": policy})


def delete_table_policy(self):
    _table(self).lc_policy = None
    return _ok(None, 204)


# ---- create keeps encryptionConfiguration

_orig_create_bucket = R.create_table_bucket
_orig_create_table = R.create_table


def create_table_bucket(self):
    status, headers, body = _orig_create_table_bucket_call(self)
    enc = _body(self).get("encryptionConfiguration")
    if enc:
        self.s3tables_backend.get_table_bucket(json.loads(body)["arn"]).lc_encryption = enc
    return status, headers, body


def _orig_create_table_bucket_call(self):
    return _orig_create_bucket(self)


def create_table(self):
    status, headers, body = _orig_create_table(self)
    enc = _body(self).get("encryptionConfiguration")
    if enc:
        arn = json.loads(body)["tableARN"]
        for bucket in self.s3tables_backend.table_buckets.values():
            for ns in bucket.namespaces.values():
                for table in ns.tables.values():
                    if table.arn == arn:
                        table.lc_encryption = enc
    return status, headers, body


HANDLERS = [
    put_table_bucket_maintenance_configuration, get_table_bucket_maintenance_configuration,
    put_table_bucket_encryption, get_table_bucket_encryption, delete_table_bucket_encryption,
    put_table_bucket_policy, get_table_bucket_policy, delete_table_bucket_policy,
    put_table_maintenance_configuration, get_table_maintenance_configuration, get_table_maintenance_job_status,
    get_table_encryption, put_table_policy, get_table_policy, delete_table_policy,
    create_table_bucket, create_table,
]


def apply() -> None:
    for handler in HANDLERS:
        setattr(R, handler.__name__, handler)
    s3t_urls.url_paths.update(EXTRA_PATHS)
