"""Dead letters: what an event function refuses, parked on `telemetry-dead` with its reason.

Every dead letter carries the refused message's `org`, `device`, `transport`, `request_id` and
`format` attributes (those it had), the refused message's id under the stage's own attribute name
(`raw_message_id`, `normalized_message_id`, `state_message_id`), `where`, and `reason` clipped to
1024 bytes of UTF-8 (Pub/Sub refuses a longer attribute value, and a refused dead letter would
make its message retry forever instead of parking); the data keeps the whole reason when the
stage puts it there. A publish the bus does not confirm in time raises Unavailable: the refused
message is redelivered, never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import orjson

from shared.bus import Bus
from shared.errors import StratusError, Unavailable
from shared.events import Message
from shared.topics import TELEMETRY_DEAD

__all__ = [
    "ATTRIBUTE_BYTES",
    "CARRIED",
    "PUBLISH_TIMEOUT",
    "Body",
    "DeadLetters",
    "clip",
    "confirm",
    "original",
]

ATTRIBUTE_BYTES = 1024  # Pub/Sub's limit for an attribute value
CARRIED = ("org", "device", "transport", "request_id", "format")
PUBLISH_TIMEOUT = 30.0

Body = Callable[[Message, StratusError], bytes]


def clip(text: str, limit: int = ATTRIBUTE_BYTES) -> str:
    """`text` in at most `limit` bytes of UTF-8, cut between characters and ending in "..." when
    cut (a character that cannot be encoded becomes "?")."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= limit:
        return raw.decode()
    return raw[: limit - 3].decode("utf-8", "ignore") + "..."


def original(data: bytes) -> Any:
    """A refused message's data for a dead letter's body: its JSON, or its text when not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode("utf-8", "replace")


def confirm(futures: Iterable[Future[str]], timeout: float = PUBLISH_TIMEOUT) -> None:
    """Wait until the bus confirmed each publish; Unavailable (retry) when one takes longer than
    `timeout` seconds, the publish's own error when it failed."""
    for future in futures:
        try:
            future.result(timeout=timeout)
        except FutureTimeout:
            raise Unavailable(f"the bus did not confirm a publish within {timeout:g} s") from None


def _raw(message: Message, error: StratusError) -> bytes:
    return message.data


class DeadLetters:
    """The dead-letter sink of one stage of the pipeline.

    `bus` is called on the first dead letter (so wiring can pass `clients.bus`); `id_attribute`
    names the refused message's id; `stage`, when given, is set as the `stage` attribute; `body`
    builds the data of a message refused whole (default: the message's data unchanged). An
    instance is the `dead_letter` of `shared.events.EventFunction`.
    """

    def __init__(
        self,
        bus: Callable[[], Bus],
        *,
        id_attribute: str,
        stage: str = "",
        body: Body = _raw,
        timeout: float = PUBLISH_TIMEOUT,
        topic: str = TELEMETRY_DEAD,
    ) -> None:
        self.bus = bus
        self.id_attribute = id_attribute
        self.stage = stage
        self.body = body
        self.timeout = timeout
        self.topic = topic

    def attributes(self, message: Message, reason: str, where: str, **extra: str) -> dict[str, str]:
        """The attributes of a dead letter of `message`; `extra` adds or overrides some (the
        `device` of one entry of a batch, the `format` of one reading)."""
        attributes = {
            key: message.attributes[key] for key in CARRIED if message.attributes.get(key)
        }
        attributes.update(extra)
        attributes[self.id_attribute] = message.id
        if self.stage:
            attributes["stage"] = self.stage
        attributes.update(where=where, reason=clip(reason))
        return attributes

    def publish(
        self, message: Message, data: bytes, reason: str, where: str, **extra: str
    ) -> Future[str]:
        """Publish one dead letter of `message` without waiting (`confirm` the future)."""
        attributes = self.attributes(message, reason, where, **extra)
        return self.bus().publish(self.topic, data, attributes)

    def __call__(self, message: Message, error: StratusError) -> None:
        """Park `message`, refused whole by `error`, and wait until the bus confirmed it."""
        where = error.field or "message"
        data = self.body(message, error)
        confirm([self.publish(message, data, error.message, where)], self.timeout)
