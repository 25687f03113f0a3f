"""Attempt budgets kept in the store: at most N attempts per key in a fixed window, then 429 with
Retry-After until the window ends, the same on every instance (the budget is a document).

An attempt is spent *before* the secret is checked, in a transaction, so concurrent guesses can
never exceed the budget; a success gives the budget back (`clear`). Documents live at
`throttles/{scope}:{key}` with `attempts` and `window_start` (epoch seconds).

A `FailureBudget` counts only failures, so any number of right answers, concurrent or not, cost
nothing: it is checked before the secret (429 once spent) and a failure is added after it, as an
atomic increment of the current window's document `throttles/{scope}:{key}:{window}`
(`failures`, `expires_at` for a TTL policy); the count is the sliding-window estimate over this
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
from typing import Any

from shared.errors import Disposition, StratusError
from shared.store import Document, Increment, Store

__all__ = ["Budget", "FailureBudget", "TooManyAttempts", "throttle_path"]

_log = logging.getLogger("stratus.throttle")
_ATTEMPTS = 10  # a transaction retried this often commits among as many concurrent ones


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
        "%s: attempt budget of %r spent, refused for %d s",
        scope,
        key,
        retry_after,
        extra={"throttle_scope": scope, "throttle_key": key},
    )


@dataclass(frozen=True, slots=True)
class Budget:
    """`attempts` per `window_seconds` for each key of `scope`."""

    store: Store
    scope: str
    attempts: int = 5
    window_seconds: int = 300
    clock: Callable[[], float] = time.time

    def spend(self, key: str) -> int:
        """Spend one attempt of `key`'s budget; returns how many are spent in this window
        (1 = the first), or raises TooManyAttempts (nothing spent) when none is left."""
        path = throttle_path(self.scope, key)

        def take(txn: Any) -> int:
            now = self.clock()
            current = txn.get(path)
            data = current.data if current is not None else {}
            start = float(data.get("window_start", 0))
            spent = int(data.get("attempts", 0))
            if now >= start + self.window_seconds:
                start, spent = now, 0
            if spent >= self.attempts:
                left = math.ceil(start + self.window_seconds - now)
                raise TooManyAttempts(
                    f"too many attempts for {key!r}: {self.attempts} per {self.window_seconds} s; "
                    f"try again in {left} s",
                    retry_after=left,
                )
            txn.set(path, {"attempts": spent + 1, "window_start": start})
            return spent + 1

        try:
            return self.store.run_transaction(take, max_attempts=_ATTEMPTS)
        except TooManyAttempts as refusal:
            _note_refusal(self.scope, key, refusal.retry_after)
            raise

    def clear(self, key: str) -> None:
        """Give `key`'s budget back (after a success)."""
        self.store.delete(throttle_path(self.scope, key))


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
    ) -> None:
        """TooManyAttempts (with the seconds until the estimate falls below the budget) when
        `key` failed `failures` times in the last window length; `documents` are `paths(key)`
        already read, else they are read here."""
        if documents is None:
            before, current = self.store.get_many(list(self.paths(key)))
        else:
            before, current = documents
        now = self.clock()
        length = self.window_seconds
        into = now % length / length  # how far into the current window, 0..1
        previous = int(before.data.get("failures", 0)) if before is not None else 0
        counted = int(current.data.get("failures", 0)) if current is not None else 0
        if previous * (1 - into) + counted < self.failures:
            return
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
