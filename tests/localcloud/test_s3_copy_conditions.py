"""CopyObject and multipart UploadPartCopy refuse a source whose ETag is not the If-Match one, as S3 does
(localcloud.patches.s3_copy_conditions); the ingest job pins unversioned sources that way."""

from __future__ import annotations

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

pytestmark = pytest.mark.localcloud

MB = 1024 * 1024


def test_copy_if_match_is_enforced_for_single_and_multipart_copies(endpoint):
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket="copy-cond")
    small = s3.put_object(Bucket="copy-cond", Key="small.csv", Body=b"a,b\n1,2\n")["ETag"]
    big = s3.put_object(Bucket="copy-cond", Key="big.csv", Body=b"x" * (11 * MB))["ETag"]

    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="copy-cond", Key="out.csv", CopySource={"Bucket": "copy-cond", "Key": "small.csv"},
                       CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    s3.copy_object(Bucket="copy-cond", Key="out.csv", CopySource={"Bucket": "copy-cond", "Key": "small.csv"},
                   CopySourceIfMatch=small)
    assert s3.get_object(Bucket="copy-cond", Key="out.csv")["Body"].read() == b"a,b\n1,2\n"

    upload = s3.create_multipart_upload(Bucket="copy-cond", Key="big-out.csv")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket="copy-cond", Key="big-out.csv", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": "copy-cond", "Key": "big.csv"}, CopySourceRange="bytes=0-5242879",
                            CopySourceIfMatch=small)
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    s3.abort_multipart_upload(Bucket="copy-cond", Key="big-out.csv", UploadId=upload)

    # boto3's managed copy (what lakepipe.staging uses) goes multipart above the threshold
    config = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    s3.copy({"Bucket": "copy-cond", "Key": "big.csv"}, "copy-cond", "big-copy.csv", ExtraArgs={"CopySourceIfMatch": big},
            Config=config)
    assert s3.head_object(Bucket="copy-cond", Key="big-copy.csv")["ContentLength"] == 11 * MB
