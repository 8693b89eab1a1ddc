"""The endpoint's log keeps the request lines of failed requests only (one line per request cost 8% of its
busy CPU in a 200-file burst)."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError

from localcloud.server import failed_requests_only

from .conftest import wait_for


def record(status: str) -> logging.LogRecord:
    """What werkzeug's WSGIRequestHandler.log_request logs: '"%s" %s %s' % (request line, status, size)."""
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
                             ("GET /b/k HTTP/1.1", status, "-"), None)


@pytest.mark.parametrize(("status", "kept"), [("200", False), ("204", False), ("304", False), ("403", True),
                                              ("404", True), ("500", True)])
def test_only_failed_requests_are_logged(status, kept):
    assert failed_requests_only(record(status)) is kept


def test_other_werkzeug_lines_are_kept():
    other = logging.LogRecord("werkzeug", logging.ERROR, __file__, 1, "Error on request: %s", ("boom",), None)
    assert failed_requests_only(other)


def test_the_endpoint_logs_the_failed_request_not_the_good_ones(endpoint):
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket="log-check")
    s3.put_object(Bucket="log-check", Key="there", Body=b"x")
    s3.get_object(Bucket="log-check", Key="there")
    with pytest.raises(ClientError):
        s3.get_object(Bucket="log-check", Key="missing-key")
    # werkzeug colours a failed request's line: match its parts, not the escapes around them.
    wait_for(lambda: any("GET /log-check/missing-key HTTP/1.1" in line and line.endswith(" 404 -")
                         for line in endpoint.log().splitlines()), 30, "the 404's request line")
    assert "/log-check/there" not in endpoint.log()
