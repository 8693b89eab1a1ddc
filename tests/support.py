"""Helpers shared by the test suites (importable as tests.support; pyproject puts the repo on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll predicate() until it returns something truthy; fail after timeout seconds."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(interval)  # poll interval of a deadline-bounded wait
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")
