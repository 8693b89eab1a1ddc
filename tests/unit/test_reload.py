"""lakepipe.reload without Spark: the proof's round trip, what it covers, the checksums."""

import gzip
import hashlib
import io
import json

import boto3
import pytest
from moto import mock_aws

from lakepipe import reload
from lakepipe.ordering import SourceOrder
from lakepipe.spec import parse_spec

SPEC = {"name": "entities", "raw_prefix": "in/entities/", "target": "glue", "database": "lake", "table": "t"}


def proof(**changes):
    base = {"run_id": "run-1", "source_uri": "s3://raw/in/a.csv", "source_sha256": "ab" * 32,
            "logic_sha256": "cd" * 32, "order": None, "columns": ["entity1", "value"],
            "rejects_uri": "s3://rej/entities/run-1/",
            "result": {"rows_read": 3, "rows_loaded": 2, "rows_rejected": 1, "quality": []}}
    return reload.LoadProof(**{**base, **changes})


def test_the_proof_round_trips_through_its_summary_property():
    p = proof(order=["2026-01-01T00:00:00", "0A" + "0" * 62], source_uri="s3://raw/in/é ü.csv")
    text = p.to_property()
    assert reload.LoadProof.from_property(text) == p
    assert '"format":1' in text


@pytest.mark.parametrize("text", [None, "", "not json", "[]", '{"format": 2, "run_id": "x"}', '{"run_id": "x"}',
                                  '{"format": 1, "run_id": "x"}', '{"format": 1, "unknown": 1}'])
def test_a_foreign_or_malformed_summary_proves_nothing(text):
    assert reload.LoadProof.from_property(text) is None


def test_what_the_proof_covers():
    p = proof(order=["2026-01-01T00:00:00", "0A"])
    same = {"source_uri": p.source_uri, "order": p.order, "logic_sha256": p.logic_sha256,
            "table_columns": {"entity1", "value", "extra"}}
    assert p.proves(**same) is None
    assert "loaded s3://raw/in/a.csv" in p.proves(**{**same, "source_uri": "s3://raw/in/b.csv"})
    assert "order" in p.proves(**{**same, "order": None})
    assert "order" in p.proves(**{**same, "order": ["2026-01-01T00:00:00", "0B"]})
    assert "spec or the ingest code" in p.proves(**{**same, "logic_sha256": "ef" * 32})
    assert "['value']" in p.proves(**{**same, "table_columns": {"entity1"}})


def test_order_of_a_source_order():
    order = SourceOrder.from_event("2026-01-01T00:00:01.250Z", "0a")
    assert reload.order_of(order) == ["2026-01-01T00:00:01.250000", "0A" + "0" * 62]
    assert reload.order_of(None) is None


def test_the_logic_fingerprint_follows_the_spec_and_the_spark_version():
    spec = parse_spec(SPEC)
    base = reload.logic_sha256(spec, "3.5.4")
    assert base == reload.logic_sha256(parse_spec(SPEC), "3.5.4")
    assert base != reload.logic_sha256(spec, "3.5.5")
    assert base != reload.logic_sha256(parse_spec({**SPEC, "rename": {"val": "value"}}), "3.5.4")


def test_the_logic_fingerprint_follows_the_code(monkeypatch):
    spec = parse_spec(SPEC)
    base = reload.logic_sha256(spec, "3.5.4")
    from lakepipe import rules

    real = rules.__loader__.get_data

    class Loader:
        def get_data(self, path):
            return real(path) + b"\n# changed"
    monkeypatch.setattr(rules, "__loader__", Loader())
    assert reload.logic_sha256(spec, "3.5.4") != base


def test_file_checksum_local_and_file_uri(tmp_path):
    data = b"a,b\n" * 100_000 + gzip.compress(b"binary too")
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert reload.file_sha256(str(path)) == expected
    assert reload.file_sha256(f"file://{path}") == expected


@mock_aws
def test_file_checksum_of_an_s3_object_streams_it():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="stage")
    data = io.BytesIO(b"x" * (20 << 20) + b"tail")  # more than one 8 MB read
    s3.upload_fileobj(data, "stage", "entities/run/a.csv")
    expected = hashlib.sha256(b"x" * (20 << 20) + b"tail").hexdigest()
    assert reload.file_sha256("s3://stage/entities/run/a.csv", s3) == expected


def _reject(line, run_id="run-1", version="v1", record="a,b"):
    return {"dataset": "entities", "run_id": run_id, "source_file": "s3://raw/in/a.csv", "source_version": version,
            "line": line, "reason": "empty_key", "detail": "key is empty", "record": record}


@mock_aws
def test_small_rejects_are_copied_through_the_driver_from_s3():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="rej")
    body = "".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for r in (_reject(9, record="é,\"q\""), _reject(3)))
    s3.put_object(Bucket="rej", Key="entities/run-1/part-00000-abc-c000.json", Body=body.encode())
    s3.put_object(Bucket="rej", Key="entities/run-1/_SUCCESS", Body=b"")
    s3.put_object(Bucket="rej", Key="entities/run-1/nested/part-00000.json", Body=b"{not a part of this run")
    p = proof(rejects_uri="s3://rej/entities/run-1/", result={"rows_rejected": 2})

    assert reload.copy_rejects(None, p, "s3://rej/entities/run-2/", run_id="run-2", source_version="v2",
                               write=None, s3_client=s3)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="rej", Prefix="entities/run-2/")["Contents"]]
    assert keys == ["entities/run-2/part-00000.json"]
    text = s3.get_object(Bucket="rej", Key=keys[0])["Body"].read().decode()
    assert [json.loads(line) for line in text.splitlines()] == [_reject(3, "run-2", "v2"),
                                                                _reject(9, "run-2", "v2", record="é,\"q\"")]
    assert list(json.loads(text.splitlines()[0])) == list(_reject(3))  # the writer's field order

    # another count than the proven one, or nothing there: not copied
    short = proof(rejects_uri="s3://rej/entities/run-1/", result={"rows_rejected": 3})
    assert not reload.copy_rejects(None, short, "s3://rej/entities/run-3/", run_id="run-3", source_version="v3",
                                   write=None, s3_client=s3)
    gone = proof(rejects_uri="s3://rej/entities/run-0/", result={"rows_rejected": 2})
    assert not reload.copy_rejects(None, gone, "s3://rej/entities/run-3/", run_id="run-3", source_version="v3",
                                   write=None, s3_client=s3)
    assert "Contents" not in s3.list_objects_v2(Bucket="rej", Prefix="entities/run-3/")

    # the proving run itself again: its rejects are checked where they are and left alone
    assert reload.copy_rejects(None, p, "s3://rej/entities/run-1", run_id="run-1", source_version="v1",
                               write=None, s3_client=s3)
    assert s3.get_object(Bucket="rej", Key="entities/run-1/part-00000-abc-c000.json")["Body"].read().decode() == body
