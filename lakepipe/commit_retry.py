"""Bounded retries of a table load that lost a race with a concurrent commit to the same Iceberg table.

On AWS every upload starts its own execution, so two runs of one dataset can MERGE at once. Iceberg
commits optimistically: the later commit finds the table moved on and either re-applies itself (its own
``commit.retry.*`` properties, for changes that do not overlap) or fails validation
(``ValidationException``: a concurrent commit touched the rows or partitions this MERGE read). Then the
whole load is redone against the new snapshot, after a capped, jittered exponential backoff: the
anti-join and MERGE are recomputed, so the result is what a serial run would have produced.
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
MAX_CAUSES = 20


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # the load runs at most this many times
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0  # one wait never exceeds this: all waits together stay under 2.5 minutes

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**retry)) so racing runs spread out."""
        return rand() * min(self.max_delay_s, self.base_delay_s * 2 ** retry)


def _java_classes(exc: BaseException) -> list[str]:
    """Class names along a Py4J exception's Java cause chain (empty for Python exceptions)."""
    java = getattr(exc, "java_exception", None)
    names: list[str] = []
    while java is not None and len(names) < MAX_CAUSES:
        try:
            names.append(str(java.getClass().getName()))
            cause = java.getCause()
        except Exception:  # noqa: BLE001 - the gateway may be gone: no more to learn
            break
        java = None if cause is None or cause == java else cause
    return names


def is_commit_conflict(exc: BaseException) -> bool:
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if any(c in CONFLICT_CLASSES for c in _java_classes(e)):
            return True
        error_class = getattr(e, "getErrorClass", None)
        if callable(error_class) and error_class() in CONFLICT_ERROR_CLASSES:
            return True
        e = e.__cause__ or e.__context__
    return False


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
            if not is_commit_conflict(e) or attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt, rand)
            log.warning("%s lost a commit race (attempt %d of %d): %s; retrying in %.1f s", what, attempt + 1,
                        policy.attempts, str(e).splitlines()[0][:300], wait)
            sleep(wait)
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable")
