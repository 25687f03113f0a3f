"""A wake-up for tasks waiting on a subscription: notify() wakes every current waiter."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Signal"]


class Signal:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Return on the next notify() or after `timeout` seconds, whichever comes first."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await event.wait()
