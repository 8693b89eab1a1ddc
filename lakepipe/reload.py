"""A re-load that would change nothing skips reading the file: the table's current snapshot carries the proof.

Every commit of the ingest's create and partition rewrite carries, in its Iceberg snapshot summary (the
`snapshot-property.` write option), the load that made it (LoadProof): the run, the source URI, the SHA-256
of the bytes read, the load's order (the S3 event's, or none), a fingerprint of what decides the rows (the
dataset spec, the lakepipe modules that classify and diff, the Spark version), the table columns it wrote
and the run's counts, quality results and rejects location.

Loading the same bytes again, with the same spec, code and order, onto the snapshot that load made, is a
no-op: the diff is a function of the table's rows, the file and the order, and none of them changed (an
unordered load left every good row's value in the table; an ordered one left each row either its own or
newer). So when the table's `main` points at a snapshot whose proof matches, the run reads nothing but the
file's bytes (for the checksum), commits nothing and reports the proven counts; its rejects are the proving
run's, copied with this run's id and version after checking their count. Anything else (another commit since,
a MERGE commit, which cannot carry summary properties from SQL, a different order, a changed spec or code,
a column the table lost, rejects gone) takes the full path, which proves the next re-load.

A newer S3 version with the same bytes is not a no-op: its rows must carry the newer order (so a delayed
older event still loses), so it takes the full path (lakepipe/README.md "Re-load").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from lakepipe.ordering import current_table
from lakepipe.s3util import split_s3_uri
from lakepipe.spec import DatasetSpec

log = logging.getLogger("lakepipe.reload")

PROPERTY = "lakepipe.load"  # the snapshot summary key; the write option is "snapshot-property." + this
FORMAT = 1
# The modules whose code decides which rows a file loads and how they are counted and rejected.
LOGIC_MODULES = ("lakepipe.ingest", "lakepipe.ordering", "lakepipe.rules", "lakepipe.naming", "lakepipe.spec",
                 "lakepipe.jsonsource", "lakepipe.quality", "lakepipe.reload")
SMALL_REJECTS = 10_000  # rejects copied through the driver (a few MB); more through Spark
REJECT_FIELDS = ("dataset", "run_id", "source_file", "source_version", "line", "reason", "detail", "record")


@dataclass(frozen=True)
class LoadProof:
    run_id: str
    source_uri: str
    source_sha256: str
    logic_sha256: str
    order: list[str] | None  # [event time ISO, normalised sequencer]; None for an unordered load
    columns: list[str]  # the table columns the load wrote
    rejects_uri: str | None
    result: dict[str, Any] = field(default_factory=dict)  # rows_read, rows_loaded, rows_rejected, ...

    def to_property(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))

    @classmethod
    def from_property(cls, text: str | None) -> LoadProof | None:
        """None for a missing, foreign or malformed value: such a snapshot proves nothing."""
        if not text:
            return None
        try:
            raw = json.loads(text)
            if raw.pop("format", None) != FORMAT:
                return None
            return cls(**raw)
        except (TypeError, ValueError):
            return None

    def proves(self, *, source_uri: str, order: list[str] | None, logic_sha256: str,
               table_columns: set[str]) -> str | None:
        """Why this proof does not cover the load (None: it does, given the same bytes)."""
        if self.source_uri != source_uri:
            return f"the current snapshot loaded {self.source_uri}"
        if self.order != order:
            return "the load's order differs"
        if self.logic_sha256 != logic_sha256:
            return "the dataset spec or the ingest code changed"
        missing = sorted(set(self.columns) - table_columns)
        if missing:
            return f"the table no longer has the columns {missing}"
        return None


def order_of(source_order) -> list[str] | None:
    """A SourceOrder as the proof records it (JSON: strings)."""
    if source_order is None:
        return None
    return [source_order.event_time.isoformat(), source_order.sequencer]


def logic_sha256(spec: DatasetSpec, spark_version: str) -> str:
    """SHA-256 of the dataset spec, the Spark version and the bytes of LOGIC_MODULES as loaded (sources here,
    compiled files in the Glue zip: either changes with the code)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(spec.to_dict(), sort_keys=True, ensure_ascii=False).encode())
    digest.update(spark_version.encode())
    for name in LOGIC_MODULES:
        module = sys.modules.get(name)
        if module is None:
            __import__(name)
            module = sys.modules[name]
        digest.update(name.encode())
        digest.update(module.__loader__.get_data(module.__file__))
    return digest.hexdigest()


def file_sha256(uri: str, s3_client: Any = None) -> str:
    """SHA-256 of a file's bytes: a local path or file:// URI, or an s3:// object streamed (never held whole)."""
    if uri.startswith("s3://"):
        bucket, key = split_s3_uri(uri)
        body = _s3(s3_client).get_object(Bucket=bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        for chunk in iter(lambda: body.read(8 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()
    with open(uri.removeprefix("file://"), "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def current_proof(spark, catalog: str, database: str, table: str) -> tuple[int | None, LoadProof | None, set[str]]:
    """(snapshot id `main` points at, the proof in its summary or None, the table's columns), read fresh from
    the catalog (ordering.current_table: a cached table could hide a commit made since, and this check commits
    nothing, so no validation would catch it). (None, None, set()) when the table or its first snapshot does
    not exist."""
    iceberg = current_table(spark, f"{catalog}.{database}.{table}")
    snapshot = None if iceberg is None else iceberg.currentSnapshot()
    if snapshot is None:
        return None, None, set()
    columns = {c.name() for c in iceberg.schema().columns()}
    return snapshot.snapshotId(), LoadProof.from_property(snapshot.summary().get(PROPERTY)), columns


def copy_rejects(spark, proof: LoadProof, uri: str, *, run_id: str, source_version: str, write,
                 s3_client: Any = None) -> bool:
    """The proving run's rejects, as this run's (its id and version), at `uri`. Up to SMALL_REJECTS through the
    driver (one object), more through Spark with `write(rejects, uri, n)` (ingest's writer: same order and file
    layout). False, writing nothing, when they are not all there (e.g. that run failed writing them, or they
    expired). The same run again (a retried run whose ledger entry was not written) finds them in place."""
    expected = int(proof.result.get("rows_rejected") or 0)
    same_place = proof.rejects_uri.rstrip("/") == uri.rstrip("/")
    if expected <= SMALL_REJECTS:
        return _copy_small(proof, uri, expected, run_id=run_id, source_version=source_version,
                           s3_client=s3_client, same_place=same_place)
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType([StructField(n, LongType() if n == "line" else StringType()) for n in REJECT_FIELDS])
    try:
        earlier = spark.read.schema(schema).json(proof.rejects_uri)
        found = earlier.count()
    except (AnalysisException, Py4JJavaError) as e:  # nothing there (PATH_NOT_FOUND), or unreadable
        return _unreadable(proof, e)
    if not _all_there(proof, found, expected):
        return False
    if same_place:
        return True
    rejects = earlier.select(*[F.lit(run_id).alias(n) if n == "run_id"
                               else F.lit(source_version).alias(n) if n == "source_version"
                               else F.col(n) for n in REJECT_FIELDS])
    write(rejects, uri, expected)
    return True


def _copy_small(proof: LoadProof, uri: str, expected: int, *, run_id: str, source_version: str, s3_client: Any,
                same_place: bool) -> bool:
    """copy_rejects through the driver: read the part files, check the count, rewrite run id and version,
    write one object (atomically: a retry overwrites it whole)."""
    try:
        lines = [line for part in _parts(proof.rejects_uri, s3_client)
                 for line in _read_text(part, s3_client).splitlines() if line]
        records = [json.loads(line) for line in lines]
    except (OSError, ValueError) as e:  # ValueError: a part that is not JSON lines (JSONDecodeError)
        return _unreadable(proof, e)
    if not _all_there(proof, len(records), expected):
        return False
    if same_place:
        return True
    for record in records:
        record["run_id"], record["source_version"] = run_id, source_version
    records.sort(key=lambda r: r["line"])
    text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    _write_text(uri.rstrip("/") + "/part-00000.json", text, s3_client)
    return True


def _unreadable(proof: LoadProof, error: Exception) -> bool:
    log.info("the rejects of run %s at %s cannot be read (%s); loading the file", proof.run_id, proof.rejects_uri,
             type(error).__name__)
    return False


def _all_there(proof: LoadProof, found: int, expected: int) -> bool:
    if found != expected:
        log.info("run %s left %d of its %d rejects at %s; loading the file", proof.run_id, found, expected,
                 proof.rejects_uri)
    return found == expected


def _parts(uri: str, s3_client: Any) -> list[str]:
    """The part files Spark's JSON writer left under a directory URI, sorted (not _SUCCESS or .crc files)."""
    if uri.startswith("s3://"):
        bucket, prefix = split_s3_uri(uri.rstrip("/") + "/")
        keys = [o["Key"] for page in _s3(s3_client).get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/") for o in page.get("Contents", [])]
        return sorted(f"s3://{bucket}/{k}" for k in keys if _is_part(k.rsplit("/", 1)[-1]))
    directory = Path(uri.removeprefix("file://"))
    if not directory.is_dir():
        raise FileNotFoundError(f"{uri}: no such directory")
    return sorted(str(p) for p in directory.iterdir() if _is_part(p.name))


def _is_part(name: str) -> bool:
    return name.startswith("part-") and name.endswith(".json")


def _read_text(uri: str, s3_client: Any) -> str:
    if uri.startswith("s3://"):
        bucket, key = split_s3_uri(uri)
        try:
            return _s3(s3_client).get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except ClientError as e:
            raise OSError(f"{uri}: {e}") from e
    return Path(uri).read_text(encoding="utf-8")


def _write_text(uri: str, text: str, s3_client: Any) -> None:
    if uri.startswith("s3://"):
        bucket, key = split_s3_uri(uri)
        _s3(s3_client).put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")
        return
    path = Path(uri.removeprefix("file://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _s3(s3_client: Any):
    if s3_client is not None:
        return s3_client
    import boto3

    return boto3.client("s3")
