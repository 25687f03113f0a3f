"""An in-memory stand-in for the bridge's bus port: records publishes, resolves them on demand."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import orjson

__all__ = ["MemoryBus"]


class MemoryBus:
    """A bus whose publishes resolve when the test says so (or at once)."""

    def __init__(self, *, auto: bool = True) -> None:
        self.auto = auto
        self.published: list[tuple[str, bytes, dict[str, str]]] = []
        self.pending: list[Future[Any]] = []
        self.fail_next = 0
        self.lock = threading.Lock()

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Future[Any]:
        future: Future[Any] = Future()
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                future.set_exception(RuntimeError("bus down"))
                return future
            self.published.append((topic, data, dict(attributes)))
            if not self.auto:
                self.pending.append(future)
                return future
        future.set_result(str(len(self.published)))
        return future

    def entries(self, topic: str = "telemetry-raw") -> list[dict[str, Any]]:
        """Every batch entry published to `topic`, in order."""
        with self.lock:
            batches = [data for name, data, _ in self.published if name == topic]
        return [entry for data in batches for entry in orjson.loads(data)]
