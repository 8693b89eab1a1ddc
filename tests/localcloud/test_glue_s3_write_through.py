"""The local Glue runner's S3 write-through: a job's boto3 writes and deletes show up in Spark's mirror
during the run, and the runner's post-run upload does not write them a second time."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from boto3.s3.transfer import TransferConfig

from localcloud.glue.s3sync import Mirror, WriteThrough, read_journal

from .conftest import REGION, create_role, start_endpoint, wait_for

pytestmark = pytest.mark.localcloud

MB = 1024 * 1024


def _versions(s3, bucket, prefix):
    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return ([(v["Key"], v["VersionId"]) for v in listing.get("Versions", [])],
            [(m["Key"], m["VersionId"]) for m in listing.get("DeleteMarkers", [])])


def test_boto3_writes_and_deletes_reach_the_mirror_and_are_not_pushed_again(endpoint, tmp_path):
    admin = endpoint.client("s3")
    admin.create_bucket(Bucket="wt-data")
    admin.put_bucket_versioning(Bucket="wt-data", VersioningConfiguration={"Status": "Enabled"})
    v1 = admin.put_object(Bucket="wt-data", Key="in/a.csv", Body=b"one\n")["VersionId"]
    admin.put_object(Bucket="wt-data", Key="in/a.csv", Body=b"two\n")
    admin.put_object(Bucket="wt-data", Key="in/gone.csv", Body=b"x\n")
    mirror = Mirror(tmp_path / "run" / "s3")
    mirror.pull(admin, [("wt-data", "in/")], print)
    assert (mirror.root / "wt-data/in/a.csv").read_bytes() == b"two\n"

    # what the driver does: hooks on a session, then the job's clients come from that session
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    journal = tmp_path / "run" / "journal.jsonl"
    WriteThrough(mirror.root, journal, lambda: endpoint.client("s3")).install(session.events)
    job = session.client("s3", endpoint_url=endpoint.url)

    job.copy({"Bucket": "wt-data", "Key": "in/a.csv", "VersionId": v1}, "wt-data", "staging/a.csv")  # CopyObject
    job.put_object(Bucket="wt-data", Key="made/report.json", Body=b'{"n": 1}')  # PutObject
    big = b"m" * (6 * MB)
    job.upload_fileobj(io.BytesIO(big), "wt-data", "made/big.bin",  # CompleteMultipartUpload
                       Config=TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB))
    job.delete_objects(Bucket="wt-data", Delete={"Objects": [{"Key": "in/gone.csv"}]})  # DeleteObjects
    with pytest.raises(job.exceptions.ClientError):  # a failed call changes nothing in the mirror
        job.put_object(Bucket="no-such-bucket", Key="k", Body=b"x")

    assert (mirror.root / "wt-data/staging/a.csv").read_bytes() == b"one\n"
    assert (mirror.root / "wt-data/made/report.json").read_bytes() == b'{"n": 1}'
    assert (mirror.root / "wt-data/made/big.bin").stat().st_size == 6 * MB
    assert not (mirror.root / "wt-data/in/gone.csv").exists()

    staged_version = job.head_object(Bucket="wt-data", Key="staging/a.csv")["VersionId"]
    job.delete_object(Bucket="wt-data", Key="staging/a.csv", VersionId=staged_version)  # DeleteObject
    assert not (mirror.root / "wt-data/staging/a.csv").exists()

    synced = read_journal(journal)
    assert synced["wt-data/staging/a.csv"] is None and synced["wt-data/in/gone.csv"] is None
    assert synced["wt-data/made/report.json"] is not None and "no-such-bucket/k" not in synced

    before = _versions(admin, "wt-data", "")
    assert mirror.push(admin, print, synced) == (0, 0)
    assert _versions(admin, "wt-data", "") == before  # no version or delete marker added by the push
    assert _versions(admin, "wt-data", "staging/") == ([], [])
    # without the journal the push would upload the job's objects again (new versions) and delete
    # in/gone.csv a second time (a second delete marker): what the journal prevents
    assert mirror.push(admin, print) == (2, 1)
    assert len(_versions(admin, "wt-data", "made/report.json")[0]) == 2
    assert len(_versions(admin, "wt-data", "in/gone.csv")[1]) == 2


JOB = '''
import sys
import boto3
from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

b = getResolvedOptions(sys.argv, ["bucket"])["bucket"]
s3 = boto3.client("s3")
s3.copy({"Bucket": b, "Key": "in/a.csv"}, b, "made/a.csv")  # created during the run, read by Spark next
s3.put_object(Bucket=b, Key="made/kept.txt", Body=b"kept")
spark = SparkSession.builder.getOrCreate()
n = spark.read.text(f"s3://{b}/made/a.csv").count()
s3.delete_object(Bucket=b, Key="made/a.csv", VersionId=s3.head_object(Bucket=b, Key="made/a.csv")["VersionId"])
spark.createDataFrame([(n,)], "n long").coalesce(1).write.mode("overwrite").json(f"s3://{b}/out/")
'''


@pytest.mark.spark
def test_spark_reads_what_the_job_wrote_with_boto3_through_the_endpoint(tmp_path):
    ep, stop = start_endpoint(tmp_path)
    try:
        s3, glue = ep.client("s3"), ep.client("glue")
        s3.create_bucket(Bucket="wt-job")
        s3.put_bucket_versioning(Bucket="wt-job", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="wt-job", Key="in/a.csv", Body=b"h\n1\n2\n")
        s3.put_object(Bucket="wt-job", Key="scripts/job.py", Body=JOB.encode())
        glue.create_job(Name="wt", Role=create_role(ep), GlueVersion="5.0",
                        Command={"Name": "glueetl", "ScriptLocation": "s3://wt-job/scripts/job.py"},
                        DefaultArguments={"--bucket": "wt-job"})
        run_id = glue.start_job_run(JobName="wt")["JobRunId"]

        def done():
            run = glue.get_job_run(JobName="wt", RunId=run_id)["JobRun"]
            return run if run["JobRunState"] not in ("STARTING", "RUNNING", "WAITING") else None

        run = wait_for(done, 300, "the job run", interval=0.5)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        parts = [o["Key"] for o in s3.list_objects_v2(Bucket="wt-job", Prefix="out/")["Contents"]
                 if o["Key"].endswith(".json")]
        rows = [json.loads(x) for k in parts for x in s3.get_object(Bucket="wt-job", Key=k)["Body"].read().splitlines()]
        assert rows == [{"n": 3}]
        assert _versions(s3, "wt-job", "made/a.csv") == ([], [])  # deleted by version; not re-uploaded
        assert len(_versions(s3, "wt-job", "made/kept.txt")[0]) == 1  # written once, by the job only
    finally:
        stop()
