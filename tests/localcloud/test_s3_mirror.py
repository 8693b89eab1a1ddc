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
        real_download = s3.download_file

        def download(bucket, key, dest):
            if key == "staging/b/two.csv":
                s3.delete_object(Bucket=bucket, Key=key)  # the other run finishes right now
            return real_download(bucket, key, dest)

        s3.download_file = download
        lines: list[str] = []
        mirror = Mirror(tmp_path / "mirror")
        mirror.pull(s3, [("raw", "staging/")], lines.append)
        assert (tmp_path / "mirror" / "raw" / "staging" / "a" / "one.csv").read_bytes() == b"1"
        assert not (tmp_path / "mirror" / "raw" / "staging" / "b" / "two.csv").exists()
        assert any("deleted after it was listed" in line for line in lines)
