"""The run's local mirror of the endpoint's S3 objects (what Spark's s3:// paths read and write).

Local Spark has no S3 connector, so localcloud.s3.MirrorFileSystem (localcloud/java) maps
``s3://bucket/key`` to ``<mirror>/bucket/key``. Before the run the runner downloads every object
under the s3:// URIs that appear in the job's arguments; after the run it uploads files the run
created or changed and deletes objects whose mirrored file the run deleted. Each run gets a fresh
mirror, so objects deleted or replaced at the endpoint between runs are never stale.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

S3_URI = re.compile(r"s3[an]?://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(/[^\s,;\"'<>\\\]\)}|]*)?")
MAX_OBJECTS = 50_000  # a guard against mirroring a whole bucket by accident

# Hadoop/Spark scratch files that a committer leaves only when a run dies; S3A would have written
# them too, but nobody reads them and they would confuse listings of the endpoint.
_SKIP_PARTS = ("_temporary",)


class MirrorError(RuntimeError):
    pass


def s3_uris(values: list[str]) -> list[tuple[str, str]]:
    """Distinct (bucket, key-or-prefix) of all s3:// URIs in the given strings (JSON included)."""
    found: dict[tuple[str, str], None] = {}
    for v in values:
        for m in S3_URI.finditer(v):
            found[(m.group(1), (m.group(2) or "/").lstrip("/"))] = None
    return list(found)


def _skipped(rel: Path) -> bool:
    return any(p.startswith(_SKIP_PARTS) for p in rel.parts) or (
        rel.name.startswith(".") and rel.name.endswith(".crc"))


@dataclass
class Mirror:
    root: Path
    # relative path -> (size, mtime_ns) right after the download; tells what the run changed.
    snapshot: dict[str, tuple[int, int]] = field(default_factory=dict)
    downloaded: int = 0
    downloaded_bytes: int = 0

    def _local(self, bucket: str, key: str) -> Path:
        p = (self.root / bucket / key).resolve()
        if not str(p).startswith(str(self.root.resolve()) + os.sep):
            raise MirrorError(f"object key escapes the mirror: s3://{bucket}/{key}")
        return p

    def pull(self, s3, uris: list[tuple[str, str]], log) -> None:
        """Download every object at or under each (bucket, key) into the mirror."""
        self.root.mkdir(parents=True, exist_ok=True)
        wanted: dict[tuple[str, str], int] = {}
        for bucket, key in uris:
            prefixes = [key] if key == "" or key.endswith("/") else [key, key + "/"]
            try:
                for prefix in prefixes:
                    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                        for obj in page.get("Contents", []):
                            k = obj["Key"]
                            if k == key or k.startswith(prefix) and (prefix.endswith("/") or prefix == ""):
                                wanted[(bucket, k)] = obj["Size"]
                        if len(wanted) > MAX_OBJECTS:
                            raise MirrorError(
                                f"more than {MAX_OBJECTS} objects under the job's s3:// arguments (at s3://{bucket}/"
                                f"{prefix}); the local runner mirrors them all before a run")
            except s3.exceptions.NoSuchBucket:
                log(f"s3 mirror: bucket {bucket} does not exist (s3://{bucket}/{key} not mirrored)")
        for (bucket, k), size in sorted(wanted.items()):
            if k.endswith("/"):  # "folder" marker objects
                self._local(bucket, k.rstrip("/") or ".").mkdir(parents=True, exist_ok=True)
                continue
            dest = self._local(bucket, k)
            dest.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, k, str(dest))
            self.downloaded += 1
            self.downloaded_bytes += size
        self.snapshot = self._scan()

    def _scan(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        if not self.root.exists():
            return out
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                p = Path(dirpath) / name
                st = p.stat()
                out[p.relative_to(self.root).as_posix()] = (st.st_size, st.st_mtime_ns)
        return out

    def push(self, s3, log) -> tuple[int, int]:
        """Upload what the run created or changed; delete what it removed. Returns (uploaded, deleted)."""
        now = self._scan()
        uploaded = deleted = 0
        failures: list[str] = []
        for rel, stat in sorted(now.items()):
            if self.snapshot.get(rel) == stat or _skipped(Path(rel)):
                continue
            bucket, _, key = rel.partition("/")
            if not key:
                continue  # a file directly in the mirror root is no object
            try:
                s3.upload_file(str(self.root / rel), bucket, key)
                uploaded += 1
            except Exception as e:  # noqa: BLE001 - e.g. NoSuchBucket: on AWS the write itself would fail
                failures.append(f"s3://{bucket}/{key}: {e}")
        for rel in sorted(set(self.snapshot) - set(now)):
            bucket, _, key = rel.partition("/")
            s3.delete_object(Bucket=bucket, Key=key)
            deleted += 1
        if failures:
            for f in failures:
                log(f"s3 mirror: upload failed: {f}")
            raise MirrorError(f"could not write {len(failures)} object(s) back to S3, first: {failures[0]}")
        return uploaded, deleted
