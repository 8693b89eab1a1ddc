"""Size limits of AWS requests that the endpoint refuses as AWS does (moto accepts any size):
Glue view texts (ViewTextString, at most 409,600 characters) and Athena's query string (at most 262,144
bytes in UTF-8). Each limit: one over is refused with AWS's error, exactly at it is accepted and works."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import start_endpoint
from tests.localcloud.test_lf_support import ATHENA_SQL, build_lake, final_status, run_query, view_input

MAX_VIEW_TEXT = 409_600
MAX_QUERY_BYTES = 262_144


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    ep, stop = start_endpoint(tmp_path_factory.mktemp("endpoint"))
    ep.roles = build_lake(ep, tmp_path_factory.mktemp("lake"))
    yield ep
    stop()


def padded(sql: str, length: int) -> str:
    """The SQL followed by spaces up to `length` characters."""
    return sql + " " * (length - len(sql))


def with_athena_text(name: str, definer: str, text: str) -> dict:
    return view_input(name, definer, athena=text)


def with_spark_expanded_text(name: str, definer: str, text: str) -> dict:
    table_input = view_input(name, definer)
    table_input["ViewDefinition"]["Representations"][0]["ViewExpandedText"] = text
    return table_input


@pytest.mark.parametrize("build, path", [
    (with_athena_text, "table.viewDefinition.representations.2.member.viewOriginalText"),
    (with_spark_expanded_text, "table.viewDefinition.representations.1.member.viewExpandedText"),
])
def test_a_view_text_over_409600_characters_is_refused(lake, build, path):
    glue = lake.client("glue")
    with pytest.raises(ClientError) as err:
        glue.create_table(DatabaseName="marts", TableInput=build("v_long", lake.roles["definer"],
                                                                 padded(ATHENA_SQL, MAX_VIEW_TEXT + 1)))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value at '{path}' failed to satisfy constraint: Member must have length "
        "less than or equal to 409600")
    with pytest.raises(glue.exceptions.EntityNotFoundException):  # nothing created, not even the empty table
        glue.get_table(DatabaseName="marts", Name="v_long")


def test_a_hive_view_text_over_the_limit_is_refused_too(lake):
    """The TableInput's own ViewOriginalText is a ViewTextString as well; no Lake Formation rule is involved."""
    glue = lake.client("glue")
    table_input = {"Name": "hive_view", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "x" * (MAX_VIEW_TEXT + 1),
                   "ViewExpandedText": "x" * (MAX_VIEW_TEXT + 1)}
    with pytest.raises(ClientError) as err:
        glue.create_table(DatabaseName="marts", TableInput=table_input)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"].startswith("2 validation errors detected: Value at "
                                                             "'table.viewOriginalText' failed")
    table_input["ViewOriginalText"] = table_input["ViewExpandedText"] = "x" * MAX_VIEW_TEXT
    glue.create_table(DatabaseName="marts", TableInput=table_input)
    stored = glue.get_table(DatabaseName="marts", Name="hive_view")["Table"]
    assert len(stored["ViewOriginalText"]) == MAX_VIEW_TEXT


def test_a_view_text_of_409600_characters_is_accepted_and_an_update_over_it_refused(lake):
    glue, definer = lake.client("glue"), lake.roles["definer"]
    text = padded(ATHENA_SQL, MAX_VIEW_TEXT)
    glue.create_table(DatabaseName="marts", TableInput=view_input("v_at_limit", definer, athena=text))
    status = final_status(lake, "marts", "v_at_limit")
    assert status["State"] == "SUCCESS", status
    assert len(next(v for v in status["Details"]["ViewValidations"]
                    if v["Dialect"] == "ATHENA")["ViewValidationText"]) == MAX_VIEW_TEXT
    version = glue.get_table(DatabaseName="marts", Name="v_at_limit")["Table"]["VersionId"]

    with pytest.raises(ClientError) as err:
        glue.update_table(DatabaseName="marts", TableInput=view_input("v_at_limit", definer, athena=text + " "))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert glue.get_table(DatabaseName="marts", Name="v_at_limit")["Table"]["VersionId"] == version  # unchanged
    q = run_query(lake, "SELECT * FROM marts.v_at_limit ORDER BY dept")
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]


def query_of_bytes(n: int) -> str:
    """`SELECT length('é...')` of exactly n bytes in UTF-8 (n even): each é is two bytes."""
    head, tail = "SELECT length('", "') AS n"
    chars = n - len(head) - len(tail)
    assert chars % 2 == 0
    return head + "é" * (chars // 2) + tail


def test_a_query_string_over_262144_bytes_is_refused(lake):
    athena = lake.client("athena")
    sql = query_of_bytes(MAX_QUERY_BYTES + 2)
    assert len(sql) < MAX_QUERY_BYTES  # the limit counts bytes, not characters
    with pytest.raises(athena.exceptions.InvalidRequestException) as err:
        athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": "s3://lf-results/q/"})
    assert err.value.response["Error"]["Message"] == (
        "1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length "
        "less than or equal to 262144")


def test_a_query_string_of_262144_bytes_runs(lake):
    sql = query_of_bytes(MAX_QUERY_BYTES)
    assert len(sql.encode()) == MAX_QUERY_BYTES
    q = run_query(lake, sql)
    assert q["Status"]["State"] == "SUCCEEDED", q["Status"]
    rows = lake.client("athena").get_query_results(QueryExecutionId=q["QueryExecutionId"])["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == str(sql.count("é"))
