"""Attempt budgets kept in the store: at most N attempts per key in a fixed window, then 429 with
Retry-After until the window ends, the same on every instance (the budget is a document).

An attempt is spent *before* the secret is checked, in a transaction, so concurrent guesses can
never exceed the budget; a success gives the budget back (`clear`). Documents live at
`throttles/{scope}:{key}` with `attempts` and `window_start` (epoch seconds).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.errors import Disposition, StratusError
from shared.store import Store

__all__ = ["Budget", "TooManyAttempts", "throttle_path"]

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
            _log.warning(
                "%s: attempt budget of %r spent, refused for %d s",
                self.scope,
                key,
                refusal.retry_after,
                extra={"throttle_scope": self.scope, "throttle_key": key},
            )
            raise

    def clear(self, key: str) -> None:
        """Give `key`'s budget back (after a success)."""
        self.store.delete(throttle_path(self.scope, key))

    def refund(self, key: str) -> None:
        """Give back one attempt `key` spent (a success that must not count against a budget
        many share, such as one client address's)."""
        path = throttle_path(self.scope, key)

        def give(txn: Any) -> None:
            current = txn.get(path)
            if current is not None and int(current.data.get("attempts", 0)) > 0:
                data = dict(current.data)
                data["attempts"] = int(data["attempts"]) - 1
                txn.set(path, data)

        self.store.run_transaction(give, max_attempts=_ATTEMPTS)
