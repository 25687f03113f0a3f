"""Push delivery (placeholder until the push loop lands)."""

from __future__ import annotations

from emulator.pubsub.broker import Broker

__all__ = ["Pusher"]


class Pusher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
