"""Retrying a load that lost an Iceberg commit race: which errors count, how often, how long."""

from __future__ import annotations

import pytest

from lakepipe.commit_retry import RetryPolicy, is_commit_conflict, with_commit_retries


class JavaThrowable:
    """The surface of a Py4J JavaObject for a java.lang.Throwable that the retry looks at."""

    def __init__(self, name: str, cause: JavaThrowable | None = None, message: str | None = None):
        self.name, self.cause, self.message = name, cause, message

    def getClass(self):
        name = self.name
        return type("C", (), {"getName": lambda _self: name})()

    def getCause(self):
        return self.cause

    def getMessage(self):
        return self.message  # None, as Java's getMessage() may be


class Py4JLikeError(Exception):
    def __init__(self, java):
        super().__init__(f"An error occurred: {java.name}")
        self.java_exception = java


class SparkAnalysisError(Exception):
    def __init__(self, error_class: str):
        super().__init__(error_class)
        self._error_class = error_class

    def getErrorClass(self):
        return self._error_class


def wrapped(root: str, message: str | None = None) -> Py4JLikeError:
    return Py4JLikeError(JavaThrowable("org.apache.spark.SparkException", JavaThrowable(root, message=message)))


def test_conflicts_are_recognised_anywhere_in_the_cause_chain():
    assert is_commit_conflict(wrapped("org.apache.iceberg.exceptions.ValidationException"))
    assert is_commit_conflict(wrapped("org.apache.iceberg.exceptions.CommitFailedException"))
    assert is_commit_conflict(SparkAnalysisError("TABLE_OR_VIEW_ALREADY_EXISTS"))
    try:
        try:
            raise wrapped("org.apache.iceberg.exceptions.CommitFailedException")
        except Exception as inner:
            raise RuntimeError("load failed") from inner
    except RuntimeError as outer:
        assert is_commit_conflict(outer)
    assert not is_commit_conflict(wrapped("java.io.FileNotFoundException"))
    # A copy-on-write MERGE whose runtime filter saw another commit: counted by class and message together.
    assert is_commit_conflict(wrapped(
        "java.lang.IllegalStateException",
        "Runtime file filtering is not possible: the table has been concurrently modified. Row-level operation "
        "scan snapshot ID: 1, current table snapshot ID: 2. If an external process modifies the table, enable "
        "table caching in the catalog."))
    assert not is_commit_conflict(wrapped("java.lang.IllegalStateException", "Connection pool shut down"))
    assert not is_commit_conflict(wrapped("java.lang.IllegalStateException"))
    assert not is_commit_conflict(SparkAnalysisError("TABLE_OR_VIEW_NOT_FOUND"))
    assert not is_commit_conflict(ValueError("file s3://b/k.csv is missing columns ['value']"))
    # A cause chain that loops (Throwable.getCause() returning itself) ends.
    loop = JavaThrowable("java.lang.RuntimeException")
    loop.cause = loop
    assert not is_commit_conflict(Py4JLikeError(loop))


def test_a_lost_race_is_redone_after_a_bounded_jittered_wait():
    calls, waits, refreshed = [], [], []

    def load():
        calls.append(1)
        if len(calls) < 3:
            raise wrapped("org.apache.iceberg.exceptions.ValidationException")
        return "merged"

    result, retries = with_commit_retries(load, policy=RetryPolicy(attempts=5, base_delay_s=1, max_delay_s=3),
                                          before_retry=lambda: refreshed.append(1), sleep=waits.append,
                                          rand=lambda: 0.999)
    assert (result, retries, len(calls), len(refreshed)) == ("merged", 2, 3, 2)
    assert waits == pytest.approx([0.999, 1.998])


def test_the_retry_warning_names_the_java_conflict_not_the_py4j_wrapper(caplog):
    calls = []

    def load():
        calls.append(1)
        if len(calls) == 1:
            raise wrapped("org.apache.iceberg.exceptions.ValidationException", "Found conflicting files: a.parquet")
        return "merged"

    with caplog.at_level("WARNING", logger="lakepipe.commit_retry"):
        with_commit_retries(load, what="load of s3://raw/x.csv", sleep=lambda _s: None)
    assert "load of s3://raw/x.csv lost a commit race (attempt 1 of 6): org.apache.iceberg.exceptions." \
           "ValidationException: Found conflicting files: a.parquet; retrying in" in caplog.text


def test_the_last_conflict_and_any_other_error_are_raised():
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay_s=1, max_delay_s=3)

    def always_conflicts():
        raise wrapped("org.apache.iceberg.exceptions.CommitFailedException")

    with pytest.raises(Py4JLikeError):
        with_commit_retries(always_conflicts, policy=policy, sleep=waits.append, rand=lambda: 0.999)
    assert waits == pytest.approx([0.999, 1.998, 2.997])  # 3 waits for 4 attempts; capped at max_delay_s

    def broken():
        raise ValueError("bad header")

    with pytest.raises(ValueError, match="bad header"):
        with_commit_retries(broken, policy=policy, sleep=waits.append)
    assert len(waits) == 3


def test_the_default_policy_bounds_the_total_wait():
    policy = RetryPolicy()
    worst = sum(policy.delay(i, rand=lambda: 1.0) for i in range(policy.attempts - 1))
    assert worst <= 150
