"""S3 ObjectCreated notifications -> state machine inputs (pure; used by the trigger Lambda)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from lakepipe.naming import execution_name
from lakepipe.ordering import OrderError, SourceOrder
from lakepipe.spec import DatasetSpec

# Object key endings that start a run, per spec format (any letter case); `.gz` is read decompressed
# (Spark picks the codec by extension, and the staged copy keeps the name).
SUFFIXES = {
    "csv": (".csv", ".csv.gz"),
    "json": (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz"),
}


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version: str  # VersionId when the bucket is versioned, else the ETag
    etag: str
    size: int
    # The version's place in time (lakepipe.ordering): the record's eventTime and the object's sequencer as
    # S3 sent them; both "" when the record lacks one (then the load keeps the unordered rule).
    event_time: str = ""
    sequencer: str = ""

    def as_source(self) -> dict[str, Any]:
        # Every key is always present: the state machine reads $.source.sequencer/$.source.event_time.
        return {"bucket": self.bucket, "key": self.key, "version": self.version, "etag": self.etag, "size": self.size,
                "sequencer": self.sequencer, "event_time": self.event_time}


@dataclass(frozen=True)
class Decision:
    """What to do with one record: action is start | skip | reject."""

    action: str
    reason: str
    obj: S3Object | None = None
    dataset: DatasetSpec | None = None
    execution_name: str | None = None
    execution_input: dict[str, Any] | None = None


class BadRecord(ValueError):
    pass


def parse_record(record: dict[str, Any]) -> tuple[str, S3Object]:
    """(eventName, object) from one S3 notification record; keys arrive URL-encoded."""
    try:
        s3 = record["s3"]
        bucket = s3["bucket"]["name"]
        raw_key = s3["object"]["key"]
    except (KeyError, TypeError) as e:
        raise BadRecord(f"not an S3 notification record (missing {e})") from e
    obj = s3["object"]
    etag = str(obj.get("eTag") or obj.get("etag") or "").strip('"')
    version = obj.get("versionId") or etag
    if not version:
        raise BadRecord(f"s3://{bucket}/{raw_key}: record has neither versionId nor eTag")
    event_time, sequencer = str(record.get("eventTime") or ""), str(obj.get("sequencer") or "")
    if event_time and sequencer:
        try:  # the ingest job parses them again; a value it would refuse is refused here, before a run starts
            SourceOrder.from_event(event_time, sequencer)
        except OrderError as e:
            raise BadRecord(f"s3://{bucket}/{raw_key}: {e}") from e
    return record.get("eventName", ""), S3Object(
        bucket=bucket,
        key=unquote_plus(raw_key),
        version=str(version),
        etag=etag,
        size=int(obj.get("size", 0) or 0),
        event_time=event_time,
        sequencer=sequencer,
    )


def match_dataset(key: str, specs: list[DatasetSpec]) -> DatasetSpec | None:
    """The dataset whose raw prefix is the longest prefix of the key."""
    best = None
    for spec in specs:
        if key.startswith(spec.raw_prefix) and (best is None or len(spec.raw_prefix) > len(best.raw_prefix)):
            best = spec
    return best


def decide(record: dict[str, Any], specs: list[DatasetSpec]) -> Decision:
    try:
        event_name, obj = parse_record(record)
    except BadRecord as e:
        return Decision("reject", str(e))
    if event_name and not event_name.startswith("ObjectCreated:"):
        return Decision("skip", f"event {event_name} is not ObjectCreated", obj=obj)
    spec = match_dataset(obj.key, specs)
    if spec is None:
        return Decision("skip", "object is outside every dataset prefix", obj=obj)
    if obj.key.endswith("/"):
        return Decision("skip", "folder placeholder object", obj=obj, dataset=spec)
    # The bucket notifications filter on the dataset prefix only (S3 suffix filters are case-sensitive),
    # so every other object under the prefix arrives here: skipped, not an error.
    suffixes = SUFFIXES[spec.format]
    if not obj.key.lower().endswith(suffixes):
        return Decision("skip", f"not a {spec.format.upper()} object (the key does not end with "
                        f"{' or '.join(suffixes)} in any letter case)", obj=obj, dataset=spec)
    name = execution_name(spec.name, obj.bucket, obj.key, obj.version)
    return Decision(
        "start",
        "ok",
        obj=obj,
        dataset=spec,
        execution_name=name,
        execution_input={"dataset": spec.to_dict(), "source": obj.as_source()},
    )
