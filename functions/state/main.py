"""Wiring of the state function: its core on a lazily built store, dead letters, entry points."""

from __future__ import annotations

from functions.state.service import store_state
from shared import clients
from shared.deadletter import DeadLetters
from shared.entry import event_function

__all__ = ["app", "event", "main"]

# a malformed batch is parked whole: its data unchanged, the reason in the attributes
_dead_letters = DeadLetters(clients.bus, id_attribute="state_message_id", stage="state")

app, event, main = event_function(
    "state", lambda message: store_state(clients.store(), message), dead_letter=_dead_letters
)
