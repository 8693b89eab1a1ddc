"""CopyObject / UploadPartCopy honour `x-amz-copy-source-if-match` (moto 5.2.5).

Gap: moto checks only `x-amz-copy-source-if-none-match` and copies whatever the source is when the
If-Match condition names another ETag. The ingest job pins an unversioned source by that condition
(lakepipe/staging.py), so the endpoint must refuse the copy with 412 PreconditionFailed as S3 does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from moto.s3.exceptions import PreconditionFailed
from moto.s3.responses import S3Response


def _check_if_match(response: S3Response) -> None:
    wanted = response.headers.get("x-amz-copy-source-if-match")
    source = response.headers.get("x-amz-copy-source")
    if not wanted or not source:
        return
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    parsed = urlparse(source)
    bucket, key = unquote(parsed.path).lstrip("/").split("/", 1)
    version_id = parse_qs(parsed.query).get("versionId", [None])[0]
    obj = response.backend.get_object(bucket, key, version_id=version_id)
    if obj is None:
        return  # moto's own handler reports the missing source
    etag = obj.etag.strip('"')
    if not any(tag.strip().strip('"') in (etag, "*") for tag in str(wanted).split(",")):
        raise PreconditionFailed(failed_condition="x-amz-copy-source-If-Match")


def _guarded(original: Any):
    def handler(self: S3Response, *args: Any, **kwargs: Any):
        _check_if_match(self)
        return original(self, *args, **kwargs)

    handler.__wrapped__ = original
    return handler


def apply() -> None:
    S3Response.copy_object = _guarded(S3Response.copy_object)
    S3Response.upload_part_copy = _guarded(S3Response.upload_part_copy)
