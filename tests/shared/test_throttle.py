"""Attempt budgets in the store: never more than N attempts per window, even concurrently; the
window ends; a success gives the budget back; failures alone spend a failure budget."""

from __future__ import annotations

import threading

import pytest

from shared.store import Store
from shared.throttle import Budget, FailureBudget, TooManyAttempts, throttle_path
from tests.support.concurrency import at_once


def test_the_budget_holds_under_concurrency(store: Store, org: str) -> None:
    budget = Budget(store, "test", attempts=3, window_seconds=60)
    outcomes: list[object] = []
    start = threading.Barrier(10)

    def attempt() -> None:
        start.wait()
        try:
            outcomes.append(budget.spend(org))
        except TooManyAttempts as refusal:
            outcomes.append(refusal)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    spent = sorted(o for o in outcomes if isinstance(o, int))
    assert spent == [1, 2, 3]
    refusals = [o for o in outcomes if isinstance(o, TooManyAttempts)]
    assert len(refusals) == 7 and all(1 <= r.retry_after <= 60 for r in refusals)


def test_the_window_ends_and_clear_gives_the_budget_back(store: Store, org: str) -> None:
    now = [500.0]
    budget = Budget(store, "test", attempts=2, window_seconds=10, clock=lambda: now[0])
    assert [budget.spend(org), budget.spend(org)] == [1, 2]
    now[0] += 9.5
    with pytest.raises(TooManyAttempts) as caught:
        budget.spend(org)
    assert caught.value.retry_after == 1 and caught.value.status == 429
    now[0] += 0.5
    assert budget.spend(org) == 1  # a new window
    budget.clear(org)
    assert store.get(throttle_path("test", org)) is None
    assert budget.spend(org) == 1
    assert budget.spend(org + "-other") == 1  # budgets are per key


def test_failures_counted_at_once_are_all_counted(store: Store, org: str) -> None:
    """A failure is an atomic increment: concurrent failures never conflict or get lost."""
    budget = FailureBudget(store, "test-failures", failures=10, window_seconds=3600)
    assert at_once(lambda _: budget.failed(org), 8) == [None] * 8
    budget.check(org)  # 8 of 10
    budget.failed(org)
    budget.failed(org)
    with pytest.raises(TooManyAttempts):
        budget.check(org)
    assert budget.check(org + "-other") is None  # budgets are per key
