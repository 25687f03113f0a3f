"""Device -> organisation, cached: the bridge asks once per device per minute, not per message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["OrgDirectory"]


class OrgDirectory:
    """Wraps a lookup with a TTL cache; unknown devices are remembered briefly (they may be new)."""

    def __init__(
        self, lookup: Callable[[str], str | None], ttl: float = 60.0, miss_ttl: float = 2.0
    ) -> None:
        self.lookup, self.ttl, self.miss_ttl = lookup, ttl, miss_ttl
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, device_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(device_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        org = self.lookup(device_id)
        with self._lock:
            self._cache[device_id] = (now + (self.ttl if org else self.miss_ttl), org)
        return org
