from lakepipe.events import decide, match_dataset, parse_record
from lakepipe.naming import execution_name
from lakepipe.spec import parse_spec

ENT = parse_spec({"name": "entities", "raw_prefix": "incoming/entities/", "target": "glue", "database": "lake", "table": "entities"})
SUB = parse_spec({"name": "sub", "raw_prefix": "incoming/entities/special/", "target": "glue", "database": "lake", "table": "sub"})
SPECS = [ENT, SUB]


def rec(key, etag="abc", version=None, event="ObjectCreated:Put", size=10):
    obj = {"key": key, "size": size, "eTag": etag}
    if version:
        obj["versionId"] = version
    return {"eventName": event, "s3": {"bucket": {"name": "raw"}, "object": obj}}


def test_keys_are_url_decoded():
    _, obj = parse_record(rec("incoming/entities/My+File%2B%C3%BC%2F1.csv"))
    assert obj.key == "incoming/entities/My File+ü/1.csv"


def test_version_prefers_version_id_then_etag():
    assert parse_record(rec("k.csv", version="v9"))[1].version == "v9"
    assert parse_record(rec("k.csv", etag='"e1"'))[1].version == "e1"


def test_longest_prefix_wins():
    assert match_dataset("incoming/entities/special/a.csv", SPECS) is SUB
    assert match_dataset("incoming/entities/a.csv", SPECS) is ENT
    assert match_dataset("incoming/other/a.csv", SPECS) is None


def test_start_decision_carries_contract_input():
    d = decide(rec("incoming/entities/a%20b.CSV", version="v1", size=123), SPECS)
    assert d.action == "start"
    assert d.execution_name == execution_name("entities", "raw", "incoming/entities/a b.CSV", "v1")
    assert d.execution_input["source"] == {"bucket": "raw", "key": "incoming/entities/a b.CSV", "version": "v1", "etag": "abc",
                                           "size": 123, "sequencer": "", "event_time": ""}
    assert d.execution_input["dataset"]["split_column"] == "entity1"
    assert d.execution_input["dataset"]["id_columns"] == ["entity2", "entity3", "entity4"]


def test_skip_and_reject():
    assert decide(rec("elsewhere/a.csv"), SPECS).action == "skip"
    assert decide(rec("incoming/entities/a.csv", event="ObjectRemoved:Delete"), SPECS).action == "skip"
    # Prefix-only notifications deliver every key under a dataset prefix: non-CSV keys are skipped.
    for key in ("incoming/entities/a.parquet", "incoming/entities/a.gz", "incoming/entities/csv",
                "incoming/entities/a.json"):
        r = decide(rec(key), SPECS)
        assert r.action == "skip" and "not a CSV" in r.reason and r.dataset is ENT, key
    for key in ("incoming/entities/REPORT.CSV", "incoming/entities/report.Csv", "incoming/entities/A/REPORT.CSV.GZ"):
        assert decide(rec(key), SPECS).action == "start", key


def test_json_datasets_start_on_json_keys_only():
    feed = parse_spec({"name": "feed", "raw_prefix": "incoming/feed/", "target": "glue", "database": "lake",
                       "table": "feed", "format": "json",
                       "json": {"leaves": "$.data", "columns": {"entity1": "$.id"}}})
    for key in ("a.json", "a.JSONL", "a.ndjson", "a.json.gz", "a.jsonl.gz", "A.NDJSON.GZ"):
        assert decide(rec("incoming/feed/" + key), [feed]).action == "start", key
    for key in ("a.csv", "a.csv.gz", "a.gz", "a.json.zip"):
        r = decide(rec("incoming/feed/" + key), [feed])
        assert r.action == "skip" and "not a JSON object" in r.reason, key
    assert decide({"nope": 1}, SPECS).action == "reject"
    assert decide(rec("incoming/entities/a.csv", etag=""), SPECS).action == "reject"


def test_event_time_and_sequencer_go_into_the_execution_input():
    record = rec("incoming/entities/a.csv", version="v2")
    record["eventTime"] = "2026-11-30T12:00:01.250Z"
    record["s3"]["object"]["sequencer"] = "0055AED6DCD90281E5"
    d = decide(record, SPECS)
    assert d.action == "start"
    assert (d.execution_input["source"]["event_time"], d.execution_input["source"]["sequencer"]) == (
        "2026-11-30T12:00:01.250Z", "0055AED6DCD90281E5")
    # the execution name still depends on the object version only: a redelivery is the same execution
    assert d.execution_name == execution_name("entities", "raw", "incoming/entities/a.csv", "v2")


def test_a_record_whose_order_the_job_would_refuse_is_rejected_before_a_run():
    bad_sequencer = rec("incoming/entities/a.csv", version="v2")
    bad_sequencer["eventTime"] = "2026-11-30T12:00:01.250Z"
    bad_sequencer["s3"]["object"]["sequencer"] = "not-hex"
    r = decide(bad_sequencer, SPECS)
    assert r.action == "reject" and "not a hexadecimal" in r.reason
    bad_time = rec("incoming/entities/a.csv", version="v2")
    bad_time["eventTime"] = "yesterday"
    bad_time["s3"]["object"]["sequencer"] = "0A"
    r = decide(bad_time, SPECS)
    assert r.action == "reject" and "not an ISO 8601 time" in r.reason
