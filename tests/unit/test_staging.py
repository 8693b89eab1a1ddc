"""lakepipe.staging and the ingest entry point's staging wiring against moto (no Spark)."""

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from moto import mock_aws

from lakepipe import ingest
from lakepipe.staging import StagingError, copy_arguments, remove_staged, stage_source, staging_uri

REGION = "eu-west-1"
RAW = "raw-bucket"
KEY = "incoming/entities/a.csv"
SRC = f"s3://{RAW}/{KEY}"
STAGING = f"s3://{RAW}/staging/"


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=RAW, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


@pytest.fixture(autouse=True)
def no_ledger(monkeypatch):
    """ingest.main consults and writes the dataset's ledger through Spark (tests/unit/test_ingest_ledger.py);
    here an empty ledger that records nothing."""
    monkeypatch.setattr(ingest.ledger, "find_loaded", lambda *a, **k: None)
    monkeypatch.setattr(ingest.ledger, "record", lambda *a, **k: True)


def versioned(s3):
    s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})
    return s3


def put(s3, body: bytes) -> tuple[str, str]:
    """(version as the trigger Lambda passes it, etag) -- VersionId, or the ETag when unversioned."""
    r = s3.put_object(Bucket=RAW, Key=KEY, Body=body)
    etag = r["ETag"].strip('"')
    return r.get("VersionId") or etag, etag


def read(s3, staged) -> bytes:
    version = {"VersionId": staged.version_id} if staged.version_id else {}
    return s3.get_object(Bucket=staged.bucket, Key=staged.key, **version)["Body"].read()


def stage(s3, version, etag, **kw):
    return stage_source(s3, SRC, version=version, etag=etag, staging_location=STAGING, dataset="entities",
                        run_id="entities-run1", **kw)


def staging_leftovers(s3) -> list:
    listing = s3.list_object_versions(Bucket=RAW, Prefix="staging/")
    return listing.get("Versions", []) + listing.get("DeleteMarkers", [])


def test_staging_uri_and_copy_arguments():
    assert staging_uri(STAGING, "entities", "run-1", SRC) == f"s3://{RAW}/staging/entities/run-1/a.csv"
    assert copy_arguments(RAW, KEY, "v1", "e1") == ({"Bucket": RAW, "Key": KEY, "VersionId": "v1"},
                                                   {"CopySourceIfMatch": '"e1"'})
    # version == etag: an unversioned bucket, pinned by the ETag alone
    assert copy_arguments(RAW, KEY, "e1", "e1") == ({"Bucket": RAW, "Key": KEY}, {"CopySourceIfMatch": '"e1"'})
    assert copy_arguments(RAW, KEY, "v1", "") == ({"Bucket": RAW, "Key": KEY, "VersionId": "v1"}, {})
    with pytest.raises(StagingError, match="neither a version nor an ETag"):
        copy_arguments(RAW, KEY, "", "")
    with pytest.raises(StagingError, match="must be an s3:// URI"):
        staging_uri("/tmp/staging/", "entities", "run-1", SRC)


def test_staged_content_is_the_announced_version_when_a_newer_one_is_current(s3):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    put(s3, b"h\nsecond\n")
    staged = stage(s3, v1, e1)
    assert staged.key == "staging/entities/entities-run1/a.csv" and staged.version_id
    assert read(s3, staged) == b"h\nfirst\n"
    assert s3.get_object(Bucket=RAW, Key=KEY)["Body"].read() == b"h\nsecond\n"  # the source is untouched


def test_multipart_managed_copy_pins_the_version_too(s3):
    versioned(s3)
    mb = 1024 * 1024
    v1, e1 = put(s3, b"a" * (6 * mb))
    put(s3, b"b" * (6 * mb))
    staged = stage(s3, v1, e1, transfer_config=TransferConfig(multipart_threshold=5 * mb, multipart_chunksize=5 * mb))
    body = read(s3, staged)
    assert len(body) == 6 * mb and set(body) == {ord("a")}
    assert s3.head_object(Bucket=RAW, Key=staged.key)["ETag"].strip('"').endswith("-2")  # really multipart


def test_unversioned_bucket_pins_by_etag(s3):
    version, etag = put(s3, b"h\nfirst\n")
    assert version == etag
    staged = stage(s3, version, etag)
    assert read(s3, staged) == b"h\nfirst\n" and staged.version_id is None
    remove_staged(s3, staged)
    assert "Contents" not in s3.list_objects_v2(Bucket=RAW, Prefix="staging/")


def test_unversioned_bucket_with_a_stale_etag_fails_naming_the_file(s3):
    version, etag = put(s3, b"h\nfirst\n")
    put(s3, b"h\nsecond\n")  # replaced after the event
    with pytest.raises(StagingError) as e:
        stage(s3, version, etag)
    assert str(e.value) == (f"{SRC}: the object was replaced after the upload event (its ETag is no longer "
                            f"{etag}); nothing was loaded")
    assert staging_leftovers(s3) == []


def test_a_vanished_version_fails_clearly(s3):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    put(s3, b"h\nsecond\n")
    s3.delete_object(Bucket=RAW, Key=KEY, VersionId=v1)
    with pytest.raises(StagingError) as e:
        stage(s3, v1, e1)
    assert str(e.value) == f"{SRC}: version {v1} no longer exists; nothing was loaded"
    assert staging_leftovers(s3) == []


def test_cleanup_leaves_no_version_and_no_delete_marker(s3):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    staged = stage(s3, v1, e1)
    assert len(staging_leftovers(s3)) == 1
    remove_staged(s3, staged)
    assert staging_leftovers(s3) == []
    assert s3.get_object(Bucket=RAW, Key=KEY, VersionId=v1)["Body"].read() == b"h\nfirst\n"


# ---- the entry point: what Spark is told to read, and cleanup whatever happens ---------------------

SPEC = ('{"name": "entities", "raw_prefix": "incoming/entities/", "database": "lake", "table": "entities"}')


def args(version, etag, **extra):
    return {"dataset_spec": SPEC, "source_uri": SRC, "source_version": version, "source_etag": etag,
            "run_id": "entities-run1", "runs_location": f"s3://{RAW}/runs/", "rejects_location": f"s3://{RAW}/rejects/",
            "staging_location": STAGING, **extra}


def fake_run_ingest(s3, seen, fail=None):
    def run(spark, spec, *, source_uri, source_version, read_uri, **kw):
        bucket, key = read_uri[len("s3://"):].split("/", 1)
        seen.update(source_uri=source_uri, source_version=source_version, read_uri=read_uri,
                    body=s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        if fail:
            raise fail
        return ingest.IngestResult(table="lake.entities", source_uri=source_uri, source_version=source_version,
                                   rows_read=1, rows_loaded=1, rows_rejected=0, rejects_location=None)
    return run


def test_main_reads_the_staged_copy_and_reports_the_original(s3, monkeypatch):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    put(s3, b"h\nsecond\n")
    seen = {}
    monkeypatch.setattr(ingest, "run_ingest", fake_run_ingest(s3, seen))
    report = ingest.main(None, args(v1, e1))
    assert seen == {"source_uri": SRC, "source_version": v1, "body": b"h\nfirst\n",
                    "read_uri": f"s3://{RAW}/staging/entities/entities-run1/a.csv"}
    assert report["source_uri"] == SRC and report["source_version"] == v1
    assert staging_leftovers(s3) == []


def test_main_removes_the_staged_copy_when_the_run_fails(s3, monkeypatch):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    seen = {}
    monkeypatch.setattr(ingest, "run_ingest", fake_run_ingest(s3, seen, fail=ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        ingest.main(None, args(v1, e1))
    assert seen["body"] == b"h\nfirst\n"
    assert staging_leftovers(s3) == []


def test_main_refuses_an_s3_source_without_a_staging_location(s3, monkeypatch):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    monkeypatch.setattr(ingest, "run_ingest", fake_run_ingest(s3, {}))
    a = args(v1, e1)
    del a["staging_location"]
    with pytest.raises(ingest.IngestError, match=f"{SRC}: --staging_location is required for s3:// sources"):
        ingest.main(None, a)


def test_main_loads_nothing_when_the_version_is_gone(s3, monkeypatch):
    versioned(s3)
    v1, e1 = put(s3, b"h\nfirst\n")
    s3.delete_object(Bucket=RAW, Key=KEY, VersionId=v1)
    seen = {}
    monkeypatch.setattr(ingest, "run_ingest", fake_run_ingest(s3, seen))
    with pytest.raises(StagingError, match="no longer exists"):
        ingest.main(None, args(v1, e1))
    assert seen == {}  # Spark was never asked to read anything
    assert "Contents" not in s3.list_objects_v2(Bucket=RAW, Prefix="runs/")  # no report
