"""Entry points of the state function: Cloud Run (`event`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

from functions.state.service import store_state
from shared import clients
from shared.errors import StratusError
from shared.events import EventFunction, Message
from shared.platforms import functions_framework, openwhisk

__all__ = ["app", "event", "main"]

DEAD_LETTER_TOPIC = "telemetry-dead"
DEAD_LETTER_TIMEOUT = 30.0
_CARRIED = ("org", "device", "transport", "request_id", "format")


def handle(message: Message) -> None:
    """Store the newest state of one `device-state` batch (a stale one changes nothing)."""
    store_state(clients.store(), message)


def dead_letter(message: Message, error: StratusError) -> None:
    """Park a malformed state batch on `telemetry-dead` with its reason; the bus confirms it
    before the message is acknowledged (a failure raises Unavailable: redelivered)."""
    attributes = {k: message.attributes[k] for k in _CARRIED if message.attributes.get(k)}
    attributes.update(
        stage="state",
        state_message_id=message.id,
        where=error.field or "message",
        reason=error.message[:1000],
    )
    future = clients.bus().publish(DEAD_LETTER_TOPIC, message.data, attributes)
    future.result(DEAD_LETTER_TIMEOUT)


app = EventFunction("state", handle, dead_letter=dead_letter)
event = functions_framework.cloud_event_entry(app)
main = openwhisk.trigger_action(app)
