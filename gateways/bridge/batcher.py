"""Batches of encoded entries, bounded in count, bytes and age; not thread-safe.

A batch belongs to one device, or is shared by every device (`shared=True`: the telemetry of a
whole fleet, split by organisation when it is published)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Batch", "Batcher"]


@dataclass(slots=True)
class Batch:
    """Entries of one kind, with the device each came from and the MQTT message ids to
    acknowledge once published."""

    kind: str
    started: float
    entries: list[bytes] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    size: int = 0

    def data(self, indexes: list[int] | None = None) -> bytes:
        """A bus message body: a JSON array of the entries (those at `indexes`, else all)."""
        entries = self.entries if indexes is None else [self.entries[i] for i in indexes]
        return b"[" + b",".join(entries) + b"]"


class Batcher:
    """Collects entries per (device, kind), or per kind for shared batches; a batch is ready
    when full or `max_delay` old."""

    def __init__(self, max_messages: int, max_bytes: int, max_delay: float) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.max_delay = max_delay
        self._open: dict[tuple[str, str], Batch] = {}
        self.count = 0  # entries held in open batches

    def add(
        self, device: str, kind: str, entry: bytes, token: int, now: float, *, shared: bool = False
    ) -> Batch | None:
        """Add one entry of `device`; returns a batch that must be published now (this one,
        full, or the previous one of this key when `entry` would have overflowed its byte
        bound)."""
        key = ("" if shared else device, kind)
        batch = self._open.get(key)
        ready = None
        if batch is not None and batch.size + len(entry) > self.max_bytes:
            ready = self._open.pop(key)
            self.count -= len(ready.entries)
            batch = None
        if batch is None:
            batch = self._open[key] = Batch(kind, now)
        batch.entries.append(entry)
        batch.tokens.append(token)
        batch.devices.append(device)
        batch.size += len(entry) + 1
        self.count += 1
        if ready is None and len(batch.entries) >= self.max_messages:
            ready = self._open.pop(key)
            self.count -= len(ready.entries)
        return ready

    def due(self, now: float) -> list[Batch]:
        """Remove and return the batches that are at least `max_delay` old."""
        keys = [key for key, b in self._open.items() if now - b.started >= self.max_delay]
        return self._take(keys)

    def drain(self) -> list[Batch]:
        """Remove and return every open batch."""
        return self._take(list(self._open))

    def _take(self, keys: list[tuple[str, str]]) -> list[Batch]:
        taken = [self._open.pop(key) for key in keys]
        self.count -= sum(len(b.entries) for b in taken)
        return taken
