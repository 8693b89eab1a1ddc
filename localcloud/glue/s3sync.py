"""The run's local mirror of the endpoint's S3 objects (what Spark's s3:// paths read and write).

Local Spark has no S3 connector, so localcloud.s3.MirrorFileSystem (localcloud/java) maps
``s3://bucket/key`` to ``<mirror>/bucket/key``. Before the run the runner downloads every object
under the s3:// URIs that appear in the job's arguments; after the run it uploads files the run
created or changed and deletes objects whose mirrored file the run deleted. Each run gets a fresh
mirror, so objects deleted or replaced at the endpoint between runs are never stale.

During the run, the job's own boto3 writes and deletes reach the endpoint directly; ``WriteThrough``
(installed by the driver on boto3's default session) reflects them into the mirror at once, so
Spark sees them as it would on AWS (S3 is strongly consistent for Spark and boto3 alike). It journals
what it synced; ``push`` treats those files as already in S3 and does not upload them again (which
would add object versions the job never wrote).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

S3_URI = re.compile(r"s3[an]?://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(/[^\s,;\"'<>\\\]\)}|]*)?")
MAX_OBJECTS = 50_000  # a guard against mirroring a whole bucket by accident
PULL_THREADS = 8  # below botocore's 10 pooled connections per client
GET_ATTEMPTS = 3  # copies of one object whose body stream broke off

# Hadoop/Spark scratch files that a committer leaves only when a run dies; S3A would have written
# them too, but nobody reads them and they would confuse listings of the endpoint.
_SKIP_PARTS = ("_temporary",)


class MirrorError(RuntimeError):
    pass


def access_denied(s3, bucket: str, key: str, error) -> str | None:
    """The AccessDenied message of a failed read, None for any other error. A HEAD answer (head_object and
    download_file start with one) has no body, so a 403 says only "Forbidden": a one-byte GET names the
    denied action and resource."""
    from botocore.exceptions import ClientError

    code = str(error.response.get("Error", {}).get("Code", ""))
    if code == "AccessDenied":
        return error.response["Error"].get("Message") or str(error)
    if code not in ("403", "Forbidden"):
        return None
    try:
        s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")
    except ClientError as e:
        return e.response["Error"].get("Message") or str(e)
    return str(error)


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
        """Download every object at or under each (bucket, key) into the mirror, as the job's role.

        What the role may not list or read is left out (logged with the AccessDenied message): this
        pre-read covers everything under the job's arguments, more than Spark may read on AWS, where a read
        the role may not make fails only if the job makes it."""
        from botocore.exceptions import ClientError

        self.root.mkdir(parents=True, exist_ok=True)
        wanted: dict[tuple[str, str], int] = {}
        for bucket, key in uris:
            try:
                if key and not key.endswith("/"):
                    # A path that names an object is read as that object (Spark: HEAD, then GET), no
                    # listing: the job's role needs s3:GetObject on it, not s3:ListBucket.
                    size = self._head(s3, bucket, key)
                    if size is not None:
                        wanted[(bucket, key)] = size
                        continue
                prefix = key if key == "" or key.endswith("/") else key + "/"
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                    for obj in page.get("Contents", []):
                        wanted[(bucket, obj["Key"])] = obj["Size"]
                    if len(wanted) > MAX_OBJECTS:
                        raise MirrorError(
                            f"more than {MAX_OBJECTS} objects under the job's s3:// arguments (at s3://{bucket}/"
                            f"{prefix}); the local runner mirrors them all before a run")
            except s3.exceptions.NoSuchBucket:
                log(f"s3 mirror: bucket {bucket} does not exist (s3://{bucket}/{key} not mirrored)")
            except ClientError as e:
                reason = access_denied(s3, bucket, key, e)
                if reason is None:
                    raise
                log(f"s3 mirror: s3://{bucket}/{key} not mirrored: {reason}")
        files: list[tuple[str, str, Path]] = []
        sizes: list[int] = []
        for (bucket, k), size in sorted(wanted.items()):
            if k.endswith("/"):  # "folder" marker objects
                self._local(bucket, k.rstrip("/") or ".").mkdir(parents=True, exist_ok=True)
                continue
            dest = self._local(bucket, k)
            dest.parent.mkdir(parents=True, exist_ok=True)
            files.append((bucket, k, dest))
            sizes.append(size)
        # One GET per object (download_file adds a HEAD and a transfer manager per call), several at once:
        # the pull grows with everything under the job's prefixes, ~27 ms an object one by one.
        with ThreadPoolExecutor(max_workers=PULL_THREADS, thread_name_prefix="s3-mirror") as pool:
            copied = pool.map(lambda f: self._get(s3, log, *f), files)
            for size, ok in zip(sizes, copied, strict=True):
                if ok:
                    self.downloaded += 1
                    self.downloaded_bytes += size
        self.snapshot = self._scan()

    @staticmethod
    def _get(s3, log, bucket: str, key: str, dest: Path) -> bool:
        """Copy one object into the mirror; False (logged) when it is gone or the role may not read it."""
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(1, GET_ATTEMPTS + 1):
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"]
                with body, open(dest, "wb") as f:
                    shutil.copyfileobj(body, f, 1 << 20)
                return True
            except ClientError as e:
                if str(e.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
                    # Listed, then deleted before the copy (e.g. an overlapping run's staged source): gone,
                    # as a read after the delete would find on AWS.
                    log(f"s3 mirror: s3://{bucket}/{key} was deleted after it was listed; not mirrored")
                    return False
                reason = access_denied(s3, bucket, key, e)
                if reason is None:
                    raise
                log(f"s3 mirror: s3://{bucket}/{key} not mirrored: {reason}")
                return False
            except BotoCoreError:  # the body's stream broke off: botocore retries requests, not reads
                if attempt == GET_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _head(s3, bucket: str, key: str) -> int | None:
        """The object's size, None when there is no such object (or bucket)."""
        from botocore.exceptions import ClientError

        try:
            return s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except ClientError as e:
            if str(e.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
                return None
            raise

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

    def push(self, s3, log, synced: dict[str, tuple[int, int] | None] | None = None) -> tuple[int, int]:
        """Upload what the run created or changed; delete what it removed. Returns (uploaded, deleted).

        ``synced``: mirror files the job's boto3 calls already wrote (stat) or deleted (None) at the
        endpoint (``read_journal``); they are in S3 as they are, unless Spark changed them afterwards.
        """
        now = self._scan()
        baseline = dict(self.snapshot)
        for rel, stat in (synced or {}).items():
            if stat is None:
                baseline.pop(rel, None)
            else:
                baseline[rel] = tuple(stat)
        uploaded = deleted = 0
        failures: list[str] = []
        for rel, stat in sorted(now.items()):
            if baseline.get(rel) == stat or _skipped(Path(rel)):
                continue
            bucket, _, key = rel.partition("/")
            if not key:
                continue  # a file directly in the mirror root is no object
            try:
                s3.upload_file(str(self.root / rel), bucket, key)
                uploaded += 1
            except Exception as e:  # noqa: BLE001 - e.g. NoSuchBucket: on AWS the write itself would fail
                failures.append(f"s3://{bucket}/{key}: {e}")
        for rel in sorted(set(baseline) - set(now)):
            bucket, _, key = rel.partition("/")
            s3.delete_object(Bucket=bucket, Key=key)
            deleted += 1
        if failures:
            for f in failures:
                log(f"s3 mirror: upload failed: {f}")
            raise MirrorError(f"could not write {len(failures)} object(s) back to S3, first: {failures[0]}")
        return uploaded, deleted


# ---- the job's boto3 writes -> the mirror, during the run ------------------------------------------

WRITE_OPERATIONS = ("CopyObject", "CompleteMultipartUpload", "PutObject", "DeleteObject", "DeleteObjects")
_PARAMS = "localcloud_mirror_params"


def read_journal(path: Path) -> dict[str, tuple[int, int] | None]:
    """The last synced state per mirror file (a run killed mid-line leaves a partial last line)."""
    out: dict[str, tuple[int, int] | None] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        out[entry["path"]] = tuple(entry["stat"]) if entry["stat"] is not None else None
    return out


class WriteThrough:
    """botocore event hooks: after a successful S3 write or delete, refresh the key in the mirror.

    The mirror shows the key's CURRENT object after the call, as a path read on AWS would: written ->
    downloaded; deleted (or only an old version deleted) -> re-read or removed. Each refresh is appended
    to ``journal`` (``{"path", "stat": [size, mtime_ns] | null}``), flushed at once, so the runner knows
    what is already in S3 even when the run is killed.
    """

    def __init__(self, mirror_root: Path, journal: Path, client_factory):
        self.mirror = Mirror(Path(mirror_root))
        self.journal = Path(journal)
        self.tmp_dir = self.journal.parent / "s3-write-through-tmp"  # outside the mirror: never uploaded
        self._client_factory = client_factory
        self._client = None
        self._lock = threading.Lock()  # managed transfers complete in worker threads

    def install(self, events) -> None:
        """Register on a boto3/botocore event emitter (boto3.DEFAULT_SESSION.events); clients created
        from it afterwards carry the hooks."""
        for op in WRITE_OPERATIONS:
            events.register(f"before-parameter-build.s3.{op}", self._remember)
            events.register(f"after-call.s3.{op}", self._after_call)

    @staticmethod
    def _remember(params, context, **_):
        context[_PARAMS] = {"Bucket": params.get("Bucket"), "Key": params.get("Key")}

    def _after_call(self, http_response, parsed, model, context, **_):
        params = context.get(_PARAMS) or {}
        if http_response.status_code >= 300 or not params.get("Bucket"):
            return  # the call failed: nothing changed at the endpoint
        if model.name == "DeleteObjects":
            keys = [d["Key"] for d in parsed.get("Deleted", [])]
        else:
            keys = [params["Key"]] if params.get("Key") else []
        for key in keys:
            self.refresh(params["Bucket"], key)

    def refresh(self, bucket: str, key: str) -> None:
        from botocore.exceptions import ClientError

        if key.endswith("/"):
            return  # folder markers are not files for Spark
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
            dest = self.mirror._local(bucket, key)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.tmp_dir / f"{threading.get_ident()}.part"
            try:
                self._client.download_file(bucket, key, str(tmp))
            except ClientError as e:
                # Only "no current object" means gone. A role that may write the key but not read it
                # (403): Spark could not read it either, so the mirror drops it (journalled as not a file
                # to upload or delete: it is in S3 as the job's call left it).
                if str(e.response.get("Error", {}).get("Code", "")) not in ("404", "NoSuchKey", "NotFound", "403",
                                                                            "AccessDenied"):
                    raise
                dest.unlink(missing_ok=True)
                stat = None
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
                st = dest.stat()
                stat = [st.st_size, st.st_mtime_ns]
            # A checksum file Spark's local file system left for older content would fail the read.
            dest.with_name(f".{dest.name}.crc").unlink(missing_ok=True)
            rel = dest.relative_to(self.mirror.root.resolve()).as_posix()
            with open(self.journal, "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": rel, "stat": stat}) + "\n")
