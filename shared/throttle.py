"""Budgets of failed attempts kept in the store: at most N failures per key in a sliding window,
then 429 with Retry-After, the same on every instance (the budget is documents in the store).

A `FailureBudget` counts only failures, so any number of right answers, concurrent or not, cost
nothing and give nothing back: it is checked before the secret (429 once spent) and a failure is
added after it, as an atomic increment of the current window's document
`throttles/{scope}:{key}:{window}` (`failures`, and `expires_at`, the end of the next window, for a
TTL policy: from then on no check reads it); the count is the sliding-window estimate over this
window and the one before. Attempts already past the check when it runs out can still fail
(the bound is the budget plus the attempts in flight), so callers check again before answering a
success.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import Disposition, StratusError
from shared.store import Document, Increment, Store

__all__ = ["FailureBudget", "TooManyAttempts", "throttle_path"]

_log = logging.getLogger("stratus.throttle")


class TooManyAttempts(StratusError):
    """The budget of attempts is spent; `retry_after` seconds until it is given back."""

    status, code, disposition = 429, "resource_exhausted", Disposition.RETRY

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


def throttle_path(scope: str, key: str) -> str:
    """The budget document of `key` in `scope` (`key` must be safe as a document id part)."""
    return f"throttles/{scope}:{key}"


def _note_refusal(scope: str, key: str, retry_after: int) -> None:
    _log.warning(
        "%s: failure budget of %r spent, refused for %d s",
        scope,
        key,
        retry_after,
        extra={"throttle_scope": scope, "throttle_key": key},
    )


@dataclass(frozen=True, slots=True)
class FailureBudget:
    """`failures` per `window_seconds` for each key of `scope`; successes are never counted."""

    store: Store
    scope: str
    failures: int = 10
    window_seconds: int = 300
    clock: Callable[[], float] = time.time

    def paths(self, key: str) -> tuple[str, str]:
        """The documents of the window before and of the current one, for `check` to read
        together with other budgets' (`Store.get_many`)."""
        window = int(self.clock() // self.window_seconds)
        return (
            throttle_path(self.scope, f"{key}:{window - 1}"),
            throttle_path(self.scope, f"{key}:{window}"),
        )

    def check(
        self, key: str, documents: tuple[Document | None, Document | None] | None = None
    ) -> float:
        """The failures of `key` counted in the last window length (the sliding estimate), or
        TooManyAttempts (with the seconds until the estimate falls below the budget) when they
        reach `failures`; `documents` are `paths(key)` already read, else they are read here."""
        if documents is None:
            before, current = self.store.get_many(list(self.paths(key)))
        else:
            before, current = documents
        now = self.clock()
        length = self.window_seconds
        into = now % length / length  # how far into the current window, 0..1
        previous = int(before.data.get("failures", 0)) if before is not None else 0
        counted = int(current.data.get("failures", 0)) if current is not None else 0
        estimate = previous * (1 - into) + counted
        if estimate < self.failures:
            return estimate
        if counted < self.failures:  # the window before weighs less as this one goes on
            wait = (1 - (self.failures - counted) / previous - into) * length
        else:  # next window: this one's failures weigh less as it goes on
            wait = (1 - into) * length + (1 - self.failures / counted) * length
        left = math.floor(wait) + 1  # strictly past the point where it equals the budget
        _note_refusal(self.scope, key, left)
        raise TooManyAttempts(
            f"too many failed attempts for {key!r}: {self.failures} per {length} s; "
            f"try again in {left} s",
            retry_after=left,
        )

    def failed(self, key: str) -> None:
        """Count one failure of `key` (an atomic increment: concurrent failures never conflict)."""
        path = self.paths(key)[1]
        window_end = (int(self.clock() // self.window_seconds) + 2) * self.window_seconds
        self.store.set(
            path,
            {"failures": Increment(1), "expires_at": datetime.fromtimestamp(window_end, UTC)},
            merge=True,
        )
