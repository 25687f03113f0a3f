"""The normalizer's core over its ports: one raw message in, its normalized message and one dead
letter per rejection out on the bus, acknowledged only once the bus has them all."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

import orjson

from functions.normalizer.transform import Outcome, normalize
from shared.bus import MAX_MESSAGE_BYTES, Bus
from shared.deadletter import DeadLetters, confirm, original
from shared.errors import StratusError
from shared.events import Message
from shared.telemetry.model import NormalizedMessage
from shared.telemetry.sensors import CachedSensorDirectory
from shared.topics import TELEMETRY_DEAD, TELEMETRY_NORMALIZED

__all__ = ["DEAD_TOPIC", "NORMALIZED_TOPIC", "PART_BYTES", "Normalizer", "encoded_parts"]

NORMALIZED_TOPIC = TELEMETRY_NORMALIZED
DEAD_TOPIC = TELEMETRY_DEAD
PART_BYTES = MAX_MESSAGE_BYTES // 2  # a normalized message is published in parts this size


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
        self.dead_letters = DeadLetters(
            lambda: bus, id_attribute="raw_message_id", timeout=publish_timeout
        )

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
            for data in encoded_parts(outcome.message, PART_BYTES):
                futures.append(self.bus.publish(NORMALIZED_TOPIC, data, attributes))
        for rejection in outcome.rejected:
            extra = {"format": rejection.format}
            if rejection.device:  # the entry's own device in a batch of several devices
                extra["device"] = rejection.device
            data = orjson.dumps(rejection.to_dict())
            futures.append(
                self.dead_letters.publish(message, data, rejection.reason, rejection.where, **extra)
            )
        confirm(futures, self.publish_timeout)

    def dead_letter(self, message: Message, error: StratusError) -> None:
        """Park a message refused as a whole (broken envelope) with its reason."""
        fmt = message.attributes.get("format", "")
        body = {
            "reason": error.message,
            "where": "message",
            "format": fmt,
            "received_ns": _int(message.attributes.get("received_ns")),
            "original": original(message.data),
        }
        published = self.dead_letters.publish(
            message, orjson.dumps(body), error.message, "message", format=fmt
        )
        confirm([published], self.publish_timeout)


def encoded_parts(message: NormalizedMessage, limit: int) -> list[bytes]:
    """The message encoded as one or more messages of at most `limit` bytes each (halving its
    readings until each part fits; a lone reading is never split): a body of many small SenML
    records grows several times over as typed readings, and the bus takes 10 MB at most."""
    data = message.to_bytes()
    if len(data) <= limit or len(message.readings) < 2:
        return [data]
    half = len(message.readings) // 2
    return [
        part
        for readings in (message.readings[:half], message.readings[half:])
        for part in encoded_parts(replace(message, readings=readings), limit)
    ]


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0
