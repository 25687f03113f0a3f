"""Backoff between attempts: exponential, capped, with jitter, never shorter than Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Delay before attempt `n + 1` after `n` failures: a random point in the upper half of
    `initial * multiplier ** n` (capped at `maximum`), so devices that failed together do not
    come back together; at least the server's Retry-After when it sent one."""

    initial: float = 0.2
    maximum: float = 30.0
    multiplier: float = 2.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        ceiling = min(self.maximum, self.initial * self.multiplier ** min(failures, 64))
        return max(self.rng.uniform(ceiling / 2, ceiling), retry_after or 0.0)
