"""The bus port: what Stratus asks of its message bus (publishing; delivery is the platform's job).

Functions and gateways publish through `Bus.publish`, whose future resolves to the message id once
the bus has durably accepted the message; only then may a caller acknowledge upstream (answer a
device 200, ack an MQTT packet). Adapter: `shared.bus.pubsub.PubSubBus` (official Pub/Sub client,
which also talks to the emulator when PUBSUB_EMULATOR_HOST is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from typing import Protocol

__all__ = ["MAX_MESSAGE_BYTES", "Bus"]

# The largest message the bus carries (Pub/Sub: data and attributes of one message). Everything
# Stratus publishes stays under it: bodies are bounded by STRATUS_MAX_BODY_BYTES (at most
# MAX_BODY_BYTES_LIMIT, shared.settings), and the normalizer splits what it produces.
MAX_MESSAGE_BYTES = 10_000_000


class Bus(Protocol):
    """Publishes messages to named topics (ids, not paths: `telemetry-raw`)."""

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Future[str]:
        """Queue one message; the future gives its id once confirmed, or raises Unavailable."""
        ...

    def close(self) -> None:
        """Flush what is queued and release connections."""
        ...
