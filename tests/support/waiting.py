"""Waiting in tests for what happens asynchronously (deliveries, caches that expire): poll until
it holds or a deadline passes, never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

__all__ = ["eventually", "until"]


def until(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.02) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def eventually(
    request: Callable[[], httpx.Response],
    done: Callable[[httpx.Response], bool],
    timeout: float = 20.0,
) -> httpx.Response:
    """Repeat `request` until `done` holds for its answer or `timeout` passes (revocation is
    bounded by the token cache, deliveries by the pipeline, not immediate); the last answer
    either way."""
    deadline = time.monotonic() + timeout
    while True:
        answer = request()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.25)
