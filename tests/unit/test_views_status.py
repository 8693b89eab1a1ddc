"""The view job waits for Glue's asynchronous verdict on each view (GetTable IncludeStatusDetails), with a
deadline: a botocore Stubber plays Glue, a fake clock plays time."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from lakepipe.views import P_MANAGED_BY, ViewJobError, _own_create_state, wait_for_view

REQUEST = {"DatabaseName": "marts", "Name": "v", "IncludeStatusDetails": True}


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def status(state: str, validations=None, error=None, action="CREATE", params=None) -> dict:
    s = {"Action": action, "State": state,
         "Details": {"RequestedChange": {"Name": "v", "Parameters": params or {}},
                     "ViewValidations": validations or []}}
    if error:
        s["Error"] = error
    return {"Table": {"Name": "v", "DatabaseName": "marts", "Status": s}}


@pytest.fixture
def glue():
    client = boto3.client("glue", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        client.stub = stub
        yield client
        stub.assert_no_pending_responses()


def test_polls_with_growing_delays_until_success(glue):
    for state in ("QUEUED", "IN_PROGRESS", "IN_PROGRESS", "SUCCESS"):
        glue.stub.add_response("get_table", status(state), REQUEST)
    clock = Clock()
    wait_for_view(glue, "marts", "v", deadline_s=60, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [0.2, 0.4, 0.8]


def test_failed_dialect_fails_naming_view_dialect_and_reason(glue):
    glue.stub.add_response("get_table", status("FAILED", validations=[
        {"Dialect": "SPARK", "State": "SUCCESS", "ViewValidationText": "SELECT 1"},
        {"Dialect": "ATHENA", "State": "FAILED", "ViewValidationText": "SELECT x",
         "Error": {"ErrorCode": "COLUMN_NOT_FOUND", "ErrorMessage": "Column 'x' cannot be resolved"}}]), REQUEST)
    with pytest.raises(ViewJobError) as err:
        wait_for_view(glue, "marts", "v", clock=Clock())
    assert str(err.value) == ("view marts.v: Glue FAILED its CREATE: dialect ATHENA: COLUMN_NOT_FOUND: "
                              "Column 'x' cannot be resolved")


def test_failed_change_without_dialect_errors_reports_the_change_error(glue):
    glue.stub.add_response("get_table", status("FAILED", action="UPDATE", error={
        "ErrorCode": "AccessDeniedException", "ErrorMessage": "Insufficient Lake Formation permission(s)"}), REQUEST)
    with pytest.raises(ViewJobError, match=r"marts\.v: Glue FAILED its UPDATE: AccessDeniedException: Insufficient"):
        wait_for_view(glue, "marts", "v", clock=Clock())


def test_deadline_bounds_the_wait_and_the_backoff(glue):
    for _ in range(8):
        glue.stub.add_response("get_table", status("IN_PROGRESS", validations=[
            {"Dialect": "ATHENA", "State": "IN_PROGRESS", "ViewValidationText": "SELECT 1"}]), REQUEST)
    clock = Clock()
    with pytest.raises(ViewJobError) as err:
        wait_for_view(glue, "marts", "v", deadline_s=10, max_delay_s=2, clock=clock, sleep=clock.sleep)
    assert "marts.v" in str(err.value) and "within 10 s" in str(err.value) and "ATHENA IN_PROGRESS" in str(err.value)
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6, 2, 2, 2] and clock.now <= 10


def test_table_without_status_has_nothing_pending(glue):
    glue.stub.add_response("get_table", {"Table": {"Name": "v", "DatabaseName": "marts"}}, REQUEST)
    wait_for_view(glue, "marts", "v", clock=Clock())


@pytest.mark.parametrize("response, state", [
    (status("FAILED", params={P_MANAGED_BY: "ds"}), "FAILED"),
    (status("IN_PROGRESS", params={P_MANAGED_BY: "ds"}), "IN_PROGRESS"),
    (status("FAILED", params={P_MANAGED_BY: "other"}), None),
    (status("FAILED", action="UPDATE", params={P_MANAGED_BY: "ds"}), None),
])
def test_only_our_create_is_recognised(glue, response, state):
    glue.stub.add_response("get_table", response, REQUEST)
    assert _own_create_state(glue, "marts", "v", "ds") == state
