"""The endpoint answers an SDK retry of a write it already carried out with that write's first response."""

from localcloud.server import RetryReplayMiddleware


class CountingApp:
    """A WSGI app that creates one thing per call: a second call for the same thing is a conflict."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        if self.calls > 1 and environ["PATH_INFO"] == "/create":
            start_response("409 Conflict", [("Content-Type", "text/plain")])
            return [b"already exists"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"created ", str(self.calls).encode()]


def call(app, method="POST", path="/create", invocation="inv-1", attempt=1):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path}
    if invocation:
        environ.update(HTTP_AMZ_SDK_INVOCATION_ID=invocation, HTTP_AMZ_SDK_REQUEST=f"attempt={attempt}; max=3")
    seen = {}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.update(status=status)))
    return seen["status"], body


def test_a_retry_of_a_completed_write_gets_the_first_response():
    inner = CountingApp()
    app = RetryReplayMiddleware(inner)
    assert call(app) == ("200 OK", b"created 1")
    assert call(app, attempt=2) == ("200 OK", b"created 1")  # not "409 already exists"
    assert inner.calls == 1


def test_everything_else_reaches_the_service():
    inner = CountingApp()
    app = RetryReplayMiddleware(inner)
    call(app)
    assert call(app, invocation="inv-2", attempt=2)[0] == "409 Conflict"  # a retry of something never done
    assert call(app, invocation="inv-1", attempt=1)[0] == "409 Conflict"  # a first attempt is never answered
    assert call(app, method="GET", path="/read", attempt=2) == ("200 OK", b"created 4")  # reads are not kept
    assert call(app, invocation=None)[0] == "409 Conflict"
    assert inner.calls == 5
