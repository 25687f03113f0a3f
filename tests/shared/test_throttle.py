"""Budgets of failed attempts in the store: concurrent failures all counted, per key; each
window's document expires when no check reads it any more."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.store import Store
from shared.throttle import FailureBudget, TooManyAttempts, throttle_path
from tests.support.concurrency import at_once


def test_failures_counted_at_once_are_all_counted(store: Store, org: str) -> None:
    """A failure is an atomic increment: concurrent failures never conflict or get lost."""
    budget = FailureBudget(store, "test-failures", 10, 3600, clock=lambda: 1_800_000_000.0)
    assert at_once(lambda _: budget.failed(org), 8) == [None] * 8
    assert budget.check(org) == 8
    budget.failed(org)
    budget.failed(org)
    with pytest.raises(TooManyAttempts):
        budget.check(org)
    assert budget.check(org + "-other") == 0  # budgets are per key


def test_a_window_expires_when_no_check_reads_it_any_more(store: Store, org: str) -> None:
    """`expires_at` (the TTL policy's field) is the end of the next window: a check reads a
    window's document while it is the current or the previous one, never after."""
    now = [1_800_000_030.0]  # 30 s into a 60 s window
    budget = FailureBudget(
        store, "test-expiry", failures=2, window_seconds=60, clock=lambda: now[0]
    )
    budget.failed(org)
    budget.failed(org)
    window = throttle_path("test-expiry", f"{org}:{1_800_000_000 // 60}")
    assert budget.paths(org)[1] == window
    found = store.get(window)
    assert found is not None and found.data["failures"] == 2
    assert found.data["expires_at"] == datetime.fromtimestamp(1_800_000_120, UTC)
    now[0] = 1_800_000_119.0  # the last second of the next window still reads it
    assert budget.check(org) == pytest.approx(2 / 60)
    now[0] = 1_800_000_120.0  # from its expires_at on, no check reads it
    assert window not in budget.paths(org) and budget.check(org) == 0
