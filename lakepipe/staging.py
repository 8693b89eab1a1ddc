"""Pin the ingest job to the exact object version its S3 event announced (pure boto3).

Spark reads paths, not object versions: `spark.read.text("s3://b/k")` reads whatever is current when
Spark lists and opens the file, so two fast uploads to one key could make the first run load the
second version (and the first version would never be loaded). Instead, the announced version is
copied server-side to a per-run staging object nobody else writes, `<staging_location><dataset>/
<run_id>/<file name>`, Spark reads that, and the staged version is deleted afterwards.

The source is identified as the trigger Lambda saw it (lakepipe/events.py): `version` is the VersionId
when the bucket is versioned, else the ETag; `etag` is the ETag. So `version == etag` means an
unversioned bucket, where only `CopySourceIfMatch` can prove the object is still the announced one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from lakepipe.s3util import join_uri, split_s3_uri

log = logging.getLogger("lakepipe.staging")

_MISSING = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}
_PRECONDITION = {"412", "PreconditionFailed"}
_BAD_VERSION = {"400", "InvalidArgument"}  # S3: "Invalid version id specified"
_DELETE_MARKER = {"405", "MethodNotAllowed"}  # the version is a delete marker


class StagingError(RuntimeError):
    """The announced object version cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class StagedObject:
    bucket: str
    key: str
    version_id: str | None  # None: unversioned staging bucket

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_s3_uri(uri: str) -> bool:
    return urlparse(uri).scheme in ("s3", "s3a", "s3n")


def staging_uri(staging_location: str, dataset: str, run_id: str, source_uri: str) -> str:
    """`s3://raw/staging/` + `entities`, `run`, `s3://raw/incoming/entities/a.csv` -> `s3://raw/staging/entities/run/a.csv`."""
    if not is_s3_uri(staging_location):
        raise StagingError(f"--staging_location must be an s3:// URI, got {staging_location!r}")
    name = split_s3_uri(source_uri)[1].rsplit("/", 1)[-1]
    if not name:
        raise StagingError(f"{source_uri}: not an object key (ends with /)")
    return join_uri(staging_location, dataset, run_id, name)


def copy_arguments(bucket: str, key: str, version: str, etag: str) -> tuple[dict[str, str], dict[str, str]]:
    """(CopySource, ExtraArgs) for the managed copy of exactly the announced object."""
    if not version and not etag:
        raise StagingError(f"s3://{bucket}/{key}: neither a version nor an ETag was given; cannot pin the object")
    source = {"Bucket": bucket, "Key": key}
    if version and version != etag:
        source["VersionId"] = version
    # If-Match takes the quoted entity tag; S3 event ETags come unquoted.
    extra = {"CopySourceIfMatch": f'"{etag.strip(chr(34))}"'} if etag else {}
    return source, extra


def _explain(source_uri: str, version: str, etag: str, versioned: bool, error: Exception) -> str:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    what = f"version {version}" if versioned else "the object"
    if code in _PRECONDITION:
        if versioned:
            return f"{source_uri}: version {version} does not have the ETag {etag} the upload event announced"
        return f"{source_uri}: the object was replaced after the upload event (its ETag is no longer {etag})"
    if code in _MISSING or (versioned and code in _BAD_VERSION):
        return f"{source_uri}: {what} no longer exists"
    if versioned and code in _DELETE_MARKER:
        return f"{source_uri}: version {version} is a delete marker, not an object"
    return f"{source_uri}: cannot copy {what} to the staging location: {error}"


def stage_source(s3: Any, source_uri: str, *, version: str, etag: str, staging_location: str, dataset: str,
                 run_id: str, transfer_config: Any = None) -> StagedObject:
    """Server-side copy of the announced version to the run's staging object; fails with StagingError."""
    from botocore.exceptions import ClientError

    bucket, key = split_s3_uri(source_uri)
    dest_bucket, dest_key = split_s3_uri(staging_uri(staging_location, dataset, run_id, source_uri))
    source, extra = copy_arguments(bucket, key, version, etag)
    versioned = "VersionId" in source
    try:
        # boto3's managed copy: CopyObject, or a multipart UploadPartCopy above the threshold (needed
        # above 5 GB); the If-Match condition goes on its HeadObject and on every part.
        s3.copy(source, dest_bucket, dest_key, ExtraArgs=extra, Config=transfer_config)
    except ClientError as e:
        raise StagingError(_explain(source_uri, version, etag, versioned, e) + "; nothing was loaded") from e
    # The copy's own response is not returned by the managed copy; the staged version is needed to
    # delete exactly it afterwards (a plain delete in a versioned bucket only adds a delete marker).
    head = s3.head_object(Bucket=dest_bucket, Key=dest_key)
    staged = StagedObject(dest_bucket, dest_key, head.get("VersionId"))
    log.info("staged %s (%s) as %s (version %s)", source_uri, source.get("VersionId", f"ETag {etag}"), staged.uri,
             staged.version_id)
    return staged


def remove_staged(s3: Any, staged: StagedObject) -> None:
    """Delete the staged object's exact version, leaving neither a version nor a delete marker."""
    kwargs = {"Bucket": staged.bucket, "Key": staged.key}
    if staged.version_id:
        kwargs["VersionId"] = staged.version_id
    s3.delete_object(**kwargs)
    log.info("removed staged %s (version %s)", staged.uri, staged.version_id)
