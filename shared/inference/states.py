"""The detector states a process wrote last, with their versions: what the scorer guards its next
batch with instead of reading them again (a stale entry only makes that batch fail)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["StateCache"]


class StateCache:
    """The detector states this process wrote last, with their versions (at most `capacity`;
    beyond that the oldest go). Only a hint: a stale entry makes the guarded batch fail."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def get_many(self, paths: Sequence[str]) -> dict[str, tuple[Any, Mapping[str, Any]] | None]:
        with self._lock:
            return {path: self._entries[path] for path in paths if path in self._entries}

    def put(self, path: str, version: Any, data: dict[str, Any]) -> None:
        with self._lock:
            self._entries[path] = (version, data)
            self._entries.move_to_end(path)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def forget(self, paths: Sequence[str]) -> None:
        with self._lock:
            for path in paths:
                self._entries.pop(path, None)
