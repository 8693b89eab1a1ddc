"""localcloud's S3 event records carry versionId and a sequencer that orders the versions of a key as on AWS
(localcloud/patches/s3_events.py), so the ingest job's ordering (lakepipe.ordering) sees AWS's behaviour locally."""

import boto3
from moto import mock_aws
from moto.s3.models import s3_backends

from lakepipe.events import parse_record
from lakepipe.ordering import normalize_sequencer, parse_event_time
from localcloud.patches import s3_events

ACCOUNT, REGION, BUCKET, KEY = "123456789012", "us-east-1", "raw", "incoming/entities/a.csv"


def _records(monkeypatch, *, clock_steps_back=False):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for body in (b"v1", b"v2", b"v3"):
            s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
        bucket = s3_backends[ACCOUNT]["aws"].get_bucket(BUCKET)
        versions = bucket.keys.getlist(KEY)  # oldest first
        if clock_steps_back:
            monkeypatch.setattr(s3_events.time, "time_ns", lambda: 1)
        # each version's event as S3 would send it, twice (two notification configurations match)
        return [(s3_events._get_s3_event("s3:ObjectCreated:Put", bucket, v, "cfg-a")["Records"][0],
                 s3_events._get_s3_event("s3:ObjectCreated:Put", bucket, v, "cfg-b")["Records"][0]) for v in versions]


def test_versions_of_a_key_have_increasing_sequencers_the_same_in_every_notification(monkeypatch):
    records = _records(monkeypatch)
    objects = [parse_record(a)[1] for a, _ in records]
    assert [o.version for o in objects] == [a["s3"]["object"]["versionId"] for a, _ in records]
    assert len({o.version for o in objects}) == 3
    sequencers = [normalize_sequencer(o.sequencer) for o in objects]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3
    assert [a["s3"]["object"]["sequencer"] for a, _ in records] == [b["s3"]["object"]["sequencer"] for _, b in records]
    for o in objects:  # moto's eventTime parses as S3's
        parse_event_time(o.event_time)


def test_sequencers_keep_increasing_when_the_clock_steps_back(monkeypatch):
    first = _records(monkeypatch)
    later = _records(monkeypatch, clock_steps_back=True)
    sequencers = [a["s3"]["object"]["sequencer"] for a, _ in first + later]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == len(sequencers)
