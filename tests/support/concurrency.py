"""Run one callable in several threads released at the same moment, collecting what each gave."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["at_once"]


def at_once(work: Callable[[int], object], count: int, timeout: float = 120.0) -> list[object]:
    """`work(0)` ... `work(count - 1)` in `count` threads that start together (a barrier); the
    result or the exception of each, in that order."""
    start = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def run(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = work(n)
        except Exception as error:  # the caller asserts on it
            outcomes[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return outcomes
