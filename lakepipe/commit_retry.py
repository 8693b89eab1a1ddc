"""Bounded retries of a table load that lost a race with a concurrent commit to the same Iceberg table.

On AWS every upload starts its own execution, so two runs of one dataset can MERGE at once. Iceberg
commits optimistically: the later commit finds the table moved on and either re-applies itself (its own
``commit.retry.*`` properties, for changes that do not overlap) or fails validation
(``ValidationException``: a concurrent commit touched the rows or partitions this MERGE read). Then the
whole load is redone against the new snapshot, after a capped, jittered exponential backoff: the
anti-join and MERGE are recomputed, so the result is what a serial run would have produced.

A copy-on-write MERGE can also lose the race before it commits: its runtime file filter re-reads the
table and refuses when the snapshot moved since the scan was planned (``IllegalStateException``
"Runtime file filtering is not possible: the table has been concurrently modified"). Nothing was
written then, so it is redone the same way. Seen when two loads share one Spark session (threads in the
ordering tests); a Glue run (or a local run, each on a driver of its own) would need its table object
refreshed during the MERGE to meet it, and redoing the load is safe either way.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("lakepipe.commit_retry")

T = TypeVar("T")

# Java exceptions (anywhere in the cause chain) that mean "another commit won": safe to redo the load.
CONFLICT_CLASSES = (
    "org.apache.iceberg.exceptions.CommitFailedException",
    "org.apache.iceberg.exceptions.ValidationException",
    "org.apache.iceberg.exceptions.AlreadyExistsException",  # two first loads creating the table at once
)
CONFLICT_ERROR_CLASSES = ("TABLE_OR_VIEW_ALREADY_EXISTS",)  # Spark's wording of the same race
# (class, message prefix): Java exceptions too general to count by class alone.
CONFLICT_MESSAGES = (
    ("java.lang.IllegalStateException",
     "Runtime file filtering is not possible: the table has been concurrently modified"),
)
MAX_CAUSES = 20


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # the load runs at most this many times
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0  # one wait never exceeds this: all waits together stay under 2.5 minutes

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**retry)) so racing runs spread out."""
        return rand() * min(self.max_delay_s, self.base_delay_s * 2 ** retry)


def _java_chain(exc: BaseException) -> list[tuple[str, str]]:
    """(class name, message) along a Py4J exception's Java cause chain (empty for Python exceptions)."""
    java = getattr(exc, "java_exception", None)
    chain: list[tuple[str, str]] = []
    while java is not None and len(chain) < MAX_CAUSES:
        try:
            chain.append((str(java.getClass().getName()), str(java.getMessage() or "")))
            cause = java.getCause()
        except Exception:  # noqa: BLE001 - the gateway may be gone: no more to learn
            break
        java = None if cause is None or cause == java else cause
    return chain


def _is_conflict_throwable(name: str, message: str) -> bool:
    return name in CONFLICT_CLASSES or any(name == c and message.startswith(m) for c, m in CONFLICT_MESSAGES)


def conflict_reason(exc: BaseException) -> str | None:
    """What says ``exc`` is a lost commit race ("<Java class>: <message>" or Spark's error class), else None."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        for name, message in _java_chain(e):
            if _is_conflict_throwable(name, message):
                return f"{name}: {message}"
        error_class = getattr(e, "getErrorClass", None)
        if callable(error_class) and error_class() in CONFLICT_ERROR_CLASSES:
            return str(error_class())
        e = e.__cause__ or e.__context__
    return None


def is_commit_conflict(exc: BaseException) -> bool:
    return conflict_reason(exc) is not None


def with_commit_retries(load: Callable[[], T], *, policy: RetryPolicy = RetryPolicy(), what: str = "the load",
                        before_retry: Callable[[], None] | None = None,
                        sleep: Callable[[float], None] = time.sleep,
                        rand: Callable[[], float] = random.random) -> tuple[T, int]:
    """Run ``load``; redo it after a commit conflict, at most ``policy.attempts`` times in all.
    Returns (its result, the number of retries). Any other error, or the last conflict, is raised."""
    for attempt in range(policy.attempts):
        try:
            return load(), attempt
        except Exception as e:
            reason = conflict_reason(e)
            if reason is None or attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt, rand)
            log.warning("%s lost a commit race (attempt %d of %d): %s; retrying in %.1f s", what, attempt + 1,
                        policy.attempts, reason.splitlines()[0][:300], wait)
            sleep(wait)
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable")
