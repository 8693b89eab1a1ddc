"""Small S3 helpers (boto3 honours AWS_ENDPOINT_URL, which the local endpoint sets)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse


def split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def join_uri(base: str, *parts: str) -> str:
    """`s3://b/runs/` + `entities`, `x.json` -> `s3://b/runs/entities/x.json` (one slash each)."""
    out = base.rstrip("/")
    for p in parts:
        out += "/" + p.strip("/")
    return out


def put_json(s3_client: Any, uri: str, document: Any) -> None:
    bucket, key = split_s3_uri(uri)
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    s3_client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def get_json(s3_client: Any, uri: str) -> Any | None:
    """The parsed object, or None when it does not exist."""
    bucket, key = split_s3_uri(uri)
    try:
        obj = s3_client.get_object(Bucket=bucket, Key=key)
    except s3_client.exceptions.NoSuchKey:
        return None
    except Exception as e:  # botocore ClientError with a 404 code (HEAD-style responses)
        code = getattr(e, "response", {}).get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return json.loads(obj["Body"].read().decode("utf-8"))
