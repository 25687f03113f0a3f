"""The normalizer's event handling: one raw message in, its normalized message and one dead letter
per rejection out, acknowledged only once the bus has them all."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import orjson

from functions.normalizer.service import Outcome, Rejection, normalize
from shared.bus import Bus
from shared.errors import StratusError, Unavailable
from shared.events import Message
from shared.telemetry.sensors import CachedSensorDirectory

__all__ = ["DEAD_TOPIC", "NORMALIZED_TOPIC", "Normalizer", "dead_letter_attributes"]

NORMALIZED_TOPIC = "telemetry-normalized"
DEAD_TOPIC = "telemetry-dead"
_ATTRIBUTE_BYTES = 1024  # Pub/Sub's limit for an attribute value
_CARRIED = ("org", "device", "transport", "request_id")


def _clip(text: str, limit: int = _ATTRIBUTE_BYTES) -> str:
    raw = text.encode()
    return text if len(raw) <= limit else raw[: limit - 3].decode(errors="ignore") + "..."


def dead_letter_attributes(
    message: Message, reason: str, where: str, fmt: str, device: str = ""
) -> dict[str, str]:
    """Attributes of a dead letter: the raw message's `org`, `device` (`device` when given: the
    entry's in a batch of several devices), `transport`, `request_id` (those it had),
    `raw_message_id`, `format`, `where`, and `reason` (clipped to Pub/Sub's 1024 bytes; the body
    has it whole)."""
    attributes = {k: message.attributes[k] for k in _CARRIED if message.attributes.get(k)}
    if device:
        attributes["device"] = device
    attributes.update(raw_message_id=message.id, format=fmt, where=where, reason=_clip(reason))
    return attributes


class Normalizer:
    """`handle` for the EventFunction, and `dead_letter`, its sink for messages refused whole.

    Failures to publish raise Unavailable (retry: the bus redelivers the raw message, and what
    was already published is published again; the writer is idempotent).
    """

    def __init__(
        self,
        bus: Bus,
        directory: CachedSensorDirectory,
        *,
        clock: Callable[[], int] = time.time_ns,
        publish_timeout: float = 30.0,
    ) -> None:
        self.bus = bus
        self.directory = directory
        self.clock = clock
        self.publish_timeout = publish_timeout

    def normalize(self, message: Message) -> Outcome:
        """The outcome of a raw message; rejections are checked once more against a fresh read
        of their devices' sensors. BadRequest for a broken envelope."""
        received = self.clock()
        outcome = normalize(message.data, message.attributes, self.directory, received)
        org, device = message.attributes.get("org", ""), message.attributes.get("device", "")
        devices = {rejection.device or device for rejection in outcome.rejected} - {""}
        refreshed = [self.directory.refresh(org, each) for each in sorted(devices)]
        if any(refreshed):
            outcome = normalize(message.data, message.attributes, self.directory, received)
        return outcome

    def handle(self, message: Message) -> None:
        outcome = self.normalize(message)
        futures: list[Future[str]] = []
        if outcome.message is not None:
            attributes = dict(message.attributes)
            futures.append(
                self.bus.publish(NORMALIZED_TOPIC, outcome.message.to_bytes(), attributes)
            )
        for rejection in outcome.rejected:
            futures.append(self._publish_rejection(message, rejection))
        self._wait(futures)

    def dead_letter(self, message: Message, error: StratusError) -> None:
        """Park a message refused as a whole (broken envelope) with its reason."""
        body = {
            "reason": error.message,
            "where": "message",
            "format": message.attributes.get("format", ""),
            "received_ns": _int(message.attributes.get("received_ns")),
            "original": _original(message.data),
        }
        attributes = dead_letter_attributes(
            message, error.message, "message", message.attributes.get("format", "")
        )
        self._wait([self.bus.publish(DEAD_TOPIC, orjson.dumps(body), attributes)])

    def _publish_rejection(self, message: Message, rejection: Rejection) -> Future[str]:
        attributes = dead_letter_attributes(
            message, rejection.reason, rejection.where, rejection.format, rejection.device
        )
        return self.bus.publish(DEAD_TOPIC, orjson.dumps(rejection.to_dict()), attributes)

    def _wait(self, futures: list[Future[str]]) -> None:
        for future in futures:
            try:
                future.result(timeout=self.publish_timeout)
            except FutureTimeout:
                raise Unavailable(
                    f"the bus did not confirm a publish within {self.publish_timeout:g} s"
                ) from None


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def _original(data: bytes) -> Any:
    """The message data as JSON when it is JSON, else as text."""
    try:
        parsed: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode(errors="replace")
    return parsed
