"""A bounded map whose values expire: the per-instance caches (token versions, sensor
directories, access decisions, detector bindings) keep what they read for a few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ExpiringMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """Values kept `ttl` seconds of `clock` (monotonic by default), at most `limit` of them:
    when full, expired values go first, then the first stored. With `ttl` <= 0 nothing is
    kept. Reads take no lock; writes are thread-safe."""

    def __init__(
        self, ttl: float, *, limit: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        self._values: dict[K, tuple[float, V]] = {}  # key -> (stored at, value)
        self._lock = threading.Lock()

    def get(self, key: K, max_age: float | None = None) -> V | None:
        """The value stored under `key` less than `max_age` (default `ttl`) seconds ago, or
        None."""
        found = self._values.get(key)
        age = self.ttl if max_age is None else max_age
        if found is None or found[0] + age <= self._clock():
            return None
        return found[1]

    def put(self, key: K, value: V, at: float | None = None) -> None:
        """Keep `value` under `key`, stored now or at `at` (a time of `clock` read before the
        value was, so it never outlives what it was read from)."""
        if self.ttl <= 0:
            return
        stored = self._clock() if at is None else at
        with self._lock:
            if key not in self._values and len(self._values) >= self.limit:
                cutoff = self._clock() - self.ttl
                self._values = {k: v for k, v in self._values.items() if v[0] > cutoff}
                while len(self._values) >= self.limit:
                    del self._values[next(iter(self._values))]
            self._values[key] = (stored, value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
