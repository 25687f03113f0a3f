"""Waiting in tests for what happens asynchronously (deliveries, caches that expire, servers that
start, processes that die): poll until it holds or a deadline passes, never a bare sleep."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["eventually", "listening", "until"]

T = TypeVar("T")


def until(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.02) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def eventually(
    request: Callable[[], T],
    done: Callable[[T], bool],
    timeout: float = 20.0,
    interval: float = 0.25,
) -> T:
    """Repeat `request` until `done` holds for its answer or `timeout` passes (revocation is
    bounded by the token cache, deliveries by the pipeline, not immediate); the last answer
    either way."""
    deadline = time.monotonic() + timeout
    while True:
        answer = request()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(interval)


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True
