"""Locks by key within one process: functions that update one store document per key in a
transaction take its lock first, so concurrent deliveries in the same instance wait their turn
instead of aborting each other's transactions (the store still settles races across instances)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["KeyedLocks"]


class KeyedLocks:
    """A lock per key, made on first use (at most `capacity` kept; beyond that the idle ones go)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._capacity = capacity

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) >= self._capacity:
                    self._locks = {k: v for k, v in self._locks.items() if v.locked()}
                lock = self._locks[key] = threading.Lock()
            return lock

    @contextmanager
    def hold(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the locks of every key (taken in sorted order, so two holders never deadlock)."""
        taken: list[threading.Lock] = []
        try:
            for key in sorted(set(keys)):
                lock = self._lock(key)
                lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
