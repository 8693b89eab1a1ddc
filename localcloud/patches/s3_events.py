"""S3 event notifications carry `versionId` and `sequencer` (moto 5.2.5).

Gap: moto's `_get_s3_event` builds `s3.object` with only `key`, `size` and `eTag`. AWS adds `versionId`
when the bucket has versioning enabled (or suspended: `null` version) and always a `sequencer` (hex,
increasing per key). Consumers that identify an object version by `versionId` (falling back to the ETag)
then treat two uploads of identical bytes as the same object version locally, but as two on AWS.
Added now: `versionId` whenever the bucket is versioned, `sequencer` always.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from moto.s3 import notifications

_orig_get_s3_event = notifications._get_s3_event
_counter = itertools.count()


def _get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    event = _orig_get_s3_event(event_name, bucket, key, notification_id)
    for record in event.get("Records", []):
        obj = record["s3"]["object"]
        if getattr(bucket, "versioning_status", None) in ("Enabled", "Suspended"):
            obj["versionId"] = str(getattr(key, "version_id", None) or "null")
        obj.setdefault("sequencer", f"{time.time_ns():016X}{next(_counter) % 256:02X}")
    return event


def apply() -> None:
    notifications._get_s3_event = _get_s3_event
