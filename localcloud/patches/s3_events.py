"""S3 event notifications carry `versionId` and `sequencer` (moto 5.2.5).

Gap: moto's `_get_s3_event` builds `s3.object` with only `key`, `size` and `eTag`. AWS adds `versionId`
when the bucket has versioning enabled (or suspended: `null` version) and always a `sequencer` for PUTs and
DELETEs: "If you compare the sequencer strings from two event notifications on the same object key, the event
notification with the greater sequencer hexadecimal value is the event that occurred later" (Amazon S3 user
guide, "Event message structure"). Consumers that identify an object version by `versionId` (falling back to
the ETag) then treat two uploads of identical bytes as the same object version locally, but as two on AWS;
the ingest job orders versions of one key by the sequencer (lakepipe.ordering).
Added now: `versionId` whenever the bucket is versioned; a `sequencer` that strictly increases across
the endpoint (so per key too), even if the wall clock steps back, and is the same in every notification of
one object version (one per matching configuration, as on AWS). moto's `eventTime` (the time the event is
built, milliseconds, UTC) is kept.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from moto.s3 import notifications

_orig_get_s3_event = notifications._get_s3_event
_lock = threading.Lock()
_last = 0
_sequencers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # moto key (one object version) -> sequencer


def next_sequencer() -> str:
    """Nanoseconds since the epoch, bumped past the previous value: 16 upper-case hex digits."""
    global _last
    with _lock:
        _last = max(time.time_ns(), _last + 1)
        return f"{_last:016X}"


def _sequencer_of(key: Any) -> str:
    with _lock:
        known = _sequencers.get(key)
    if known is None:
        known = next_sequencer()
        with _lock:
            known = _sequencers.setdefault(key, known)
    return known


def _get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    event = _orig_get_s3_event(event_name, bucket, key, notification_id)
    for record in event.get("Records", []):
        obj = record["s3"]["object"]
        if getattr(bucket, "versioning_status", None) in ("Enabled", "Suspended"):
            obj["versionId"] = str(getattr(key, "version_id", None) or "null")
        obj.setdefault("sequencer", _sequencer_of(key))
    return event


def apply() -> None:
    notifications._get_s3_event = _get_s3_event
