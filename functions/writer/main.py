"""Entry points of the writer: Cloud Run (`event`), OpenWhisk (`main`), the emulator's host."""

from __future__ import annotations

from functools import lru_cache

from functions.writer import service
from functions.writer.service import Writer, received_ns
from shared import clients
from shared.errors import StratusError
from shared.events import EventFunction, Message
from shared.platforms import functions_framework, openwhisk
from shared.telemetry.model import NormalizedMessage

DEAD_LETTER_TOPIC = "telemetry-dead"
DEAD_LETTER_TIMEOUT = 30.0


@lru_cache(maxsize=1)
def _writer() -> Writer:
    return Writer(clients.store())


def handle(message: Message) -> None:
    """Store the readings of one `telemetry-normalized` message."""
    normalized = NormalizedMessage.from_bytes(message.data)
    _writer().write(normalized, received_ns(message.attributes, message.publish_time))


def dead_letter(message: Message, error: StratusError) -> None:
    """Park an unstorable message on `telemetry-dead` with its reason (the bus confirms it
    before the message is acknowledged; a failure raises Unavailable and it is redelivered)."""
    data, attributes = service.dead_letter(message, error)
    clients.bus().publish(DEAD_LETTER_TOPIC, data, attributes).result(DEAD_LETTER_TIMEOUT)


app = EventFunction("writer", handle, dead_letter=dead_letter)
event = functions_framework.cloud_event_entry(app)
main = openwhisk.trigger_action(app)
