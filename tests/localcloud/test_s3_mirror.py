"""The Glue runner's per-run S3 mirror under overlapping runs (moto in-process)."""

from __future__ import annotations

import boto3
from moto import mock_aws

from localcloud.glue.s3sync import Mirror


def test_an_object_deleted_between_listing_and_copy_is_left_out(tmp_path):
    """Another run deletes its staged copy while this run mirrors the staging prefix: the object is gone, not
    an error (a read after the delete would not find it on AWS either)."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        s3.put_object(Bucket="raw", Key="staging/a/one.csv", Body=b"1")
        s3.put_object(Bucket="raw", Key="staging/b/two.csv", Body=b"2")
        real_get = s3.get_object

        def get_object(Bucket, Key):
            if Key == "staging/b/two.csv":
                s3.delete_object(Bucket=Bucket, Key=Key)  # the other run finishes right now
            return real_get(Bucket=Bucket, Key=Key)

        s3.get_object = get_object
        lines: list[str] = []
        mirror = Mirror(tmp_path / "mirror")
        mirror.pull(s3, [("raw", "staging/")], lines.append)
        assert (tmp_path / "mirror" / "raw" / "staging" / "a" / "one.csv").read_bytes() == b"1"
        assert not (tmp_path / "mirror" / "raw" / "staging" / "b" / "two.csv").exists()
        assert any("deleted after it was listed" in line for line in lines)


def test_every_object_under_the_prefixes_is_mirrored_byte_for_byte(tmp_path):
    """The pull copies objects several at once: each file is its object, sizes and counts add up."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        bodies = {f"runs/ds/{i:03d}/report.json": (f"{i}-" * (i * 37 + 1)).encode() for i in range(60)}
        bodies["runs/big.bin"] = bytes(range(256)) * 12_000  # several read chunks
        for key, body in bodies.items():
            s3.put_object(Bucket="raw", Key=key, Body=body)
        s3.put_object(Bucket="raw", Key="elsewhere/x", Body=b"not under the prefix")
        mirror = Mirror(tmp_path / "mirror")
        mirror.pull(s3, [("raw", "runs/")], print)
        got = {p.relative_to(tmp_path / "mirror" / "raw").as_posix(): p.read_bytes()
               for p in (tmp_path / "mirror" / "raw").rglob("*") if p.is_file()}
        assert got == bodies
        assert mirror.downloaded == len(bodies)
        assert mirror.downloaded_bytes == sum(map(len, bodies.values()))
        assert set(mirror.snapshot) == {f"raw/{k}" for k in bodies}


def test_a_body_that_breaks_off_is_read_again(tmp_path):
    """The endpoint drops a connection mid-body once: the object is copied again, whole."""
    from botocore.exceptions import ResponseStreamingError

    class BrokenBody:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, *_):
            raise ResponseStreamingError(error="connection reset by peer")

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        s3.put_object(Bucket="raw", Key="runs/a.json", Body=b"whole")
        real_get = s3.get_object
        calls: list[str] = []

        def get_object(Bucket, Key):
            calls.append(Key)
            return {"Body": BrokenBody()} if len(calls) == 1 else real_get(Bucket=Bucket, Key=Key)

        s3.get_object = get_object
        mirror = Mirror(tmp_path / "mirror")
        mirror.pull(s3, [("raw", "runs/")], print)
        assert (tmp_path / "mirror" / "raw" / "runs" / "a.json").read_bytes() == b"whole"
        assert calls == ["runs/a.json", "runs/a.json"] and mirror.downloaded == 1
