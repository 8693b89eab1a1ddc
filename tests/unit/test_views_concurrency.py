"""Overlapping view jobs: each create/update is optimistic (VersionId), a lost race is re-read and decided
again, and a view built from an older table state never replaces one built from a newer state. A botocore
Stubber plays Glue and checks the exact requests."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from lakepipe.spec import parse_spec
from lakepipe.views import P_HASH, P_MANAGED_BY, P_TABLE_SEQUENCE, ViewJobError, write_view

SPEC = parse_spec({"name": "ds", "raw_prefix": "incoming/ds/", "database": "lake", "table": "t",
                   "view_database": "marts"})


def tin(sequence: int, digest: str = "new") -> dict:
    return {"Name": "v", "TableType": "VIRTUAL_VIEW",
            "Parameters": {P_MANAGED_BY: "ds", P_HASH: digest, P_TABLE_SEQUENCE: str(sequence)}}


def view(sequence: int, digest: str, version: str = "1", managed_by: str = "ds") -> dict:
    return {"Name": "v", "DatabaseName": "marts", "VersionId": version,
            "Parameters": {P_MANAGED_BY: managed_by, P_HASH: digest, P_TABLE_SEQUENCE: str(sequence)}}


@pytest.fixture
def glue():
    client = boto3.client("glue", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        client.stub = stub
        yield client
        stub.assert_no_pending_responses()


def test_an_update_names_the_version_it_read_and_a_lost_race_is_decided_again(glue):
    mine = tin(7)
    glue.stub.add_client_error("update_table", "ConcurrentModificationException",
                               expected_params={"DatabaseName": "marts", "TableInput": mine, "VersionId": "3"})
    glue.stub.add_response("get_table", {"Table": view(6, "other", version="4")},
                           {"DatabaseName": "marts", "Name": "v"})
    glue.stub.add_response("update_table", {},
                           {"DatabaseName": "marts", "TableInput": mine, "VersionId": "4"})
    sleeps: list[float] = []
    assert write_view(glue, "marts", mine, SPEC, view(5, "old", version="3"), 7, sleep=sleeps.append) == "updated"
    assert len(sleeps) == 1


def test_a_view_from_a_newer_table_state_is_never_replaced(glue):
    # Created by another job between our listing and our create: re-read, and it is newer than ours.
    glue.stub.add_client_error("create_table", "AlreadyExistsException")
    glue.stub.add_response("get_table", {"Table": view(9, "theirs")}, {"DatabaseName": "marts", "Name": "v"})
    assert write_view(glue, "marts", tin(7), SPEC, None, 7, sleep=lambda _s: None) == "superseded"


def test_same_definition_is_unchanged_and_a_foreign_table_is_a_conflict(glue):
    assert write_view(glue, "marts", tin(7, "same"), SPEC, view(3, "same"), 7) == "unchanged"
    assert write_view(glue, "marts", tin(7), SPEC, view(3, "x", managed_by="other"), 7) == "conflict"


def test_a_create_in_progress_by_another_job_is_waited_for(glue):
    empty = {"Name": "v", "DatabaseName": "marts", "VersionId": "1"}
    in_progress = {"Table": {**empty, "Status": {"Action": "CREATE", "State": "IN_PROGRESS", "Details": {
        "RequestedChange": {"Name": "v", "Parameters": {P_MANAGED_BY: "ds"}}}}}}
    glue.stub.add_response("get_table", in_progress, {"DatabaseName": "marts", "Name": "v",
                                                      "IncludeStatusDetails": True})
    glue.stub.add_response("get_table", {"Table": view(7, "new")}, {"DatabaseName": "marts", "Name": "v"})
    assert write_view(glue, "marts", tin(7), SPEC, empty, 7, sleep=lambda _s: None) == "unchanged"


def test_a_create_by_another_job_that_finished_after_the_listing_is_read_again_not_a_conflict(glue):
    """The listing caught another view job's CREATE of this dataset's view as Glue's empty table; by the time
    its status is read the CREATE has succeeded: the view it made is read and compared, never called a table
    this pipeline does not manage (a 12-file burst failed a view job that way in CI)."""
    empty = {"Name": "v", "DatabaseName": "marts", "VersionId": "1"}
    succeeded = {"Table": {**view(7, "new"), "Status": {"Action": "CREATE", "State": "SUCCESS", "Details": {
        "RequestedChange": {"Name": "v", "Parameters": {P_MANAGED_BY: "ds"}}}}}}
    glue.stub.add_response("get_table", succeeded, {"DatabaseName": "marts", "Name": "v",
                                                    "IncludeStatusDetails": True})
    glue.stub.add_response("get_table", {"Table": view(7, "new")}, {"DatabaseName": "marts", "Name": "v"})
    assert write_view(glue, "marts", tin(7), SPEC, empty, 7, sleep=lambda _s: None) == "unchanged"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def test_the_retries_end_at_the_deadline_not_after_a_count(glue):
    # Other jobs keep the view busy through 15 re-reads (~60 s of backoff, more than the fixed 10 attempts
    # there used to be): within a 100 s deadline the write still lands.
    clock = FakeClock()
    glue.stub.add_client_error("update_table", "ConcurrentModificationException")
    for _ in range(15):
        glue.stub.add_response("get_table", {"Table": view(1, "old", version="2")})
        glue.stub.add_client_error("update_table", "ConcurrentModificationException")
    glue.stub.add_response("get_table", {"Table": view(1, "old", version="3")})
    glue.stub.add_response("update_table", {})
    assert write_view(glue, "marts", tin(7), SPEC, view(1, "old"), 7, deadline_s=100, clock=lambda: clock.now,
                      sleep=clock.sleep) == "updated"
    assert len(clock.sleeps) == 16 and max(clock.sleeps) <= 5.0 and 60 < clock.now < 100


def test_a_view_busy_past_the_deadline_fails_naming_it(glue):
    clock = FakeClock()
    glue.stub.add_client_error("update_table", "ConcurrentModificationException")
    for _ in range(8):  # waits 0.4 + 0.8 + 1.6 + 3.2 + 5 x 4 = 26 s; a 9th wait of 5 s would pass 30 s
        glue.stub.add_response("get_table", {"Table": view(1, "old", version="2")})
        glue.stub.add_client_error("update_table", "ConcurrentModificationException")
    with pytest.raises(ViewJobError, match=r"marts\.v: still changing under other view jobs after 30 s"):
        write_view(glue, "marts", tin(7), SPEC, view(1, "old"), 7, deadline_s=30, clock=lambda: clock.now,
                   sleep=clock.sleep)
    assert clock.now <= 30 and max(clock.sleeps) <= 5.0
