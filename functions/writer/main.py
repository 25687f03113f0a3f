"""Wiring of the writer: its core on a lazily built store, its dead letters, its entry points."""

from __future__ import annotations

from functools import cache

from functions.writer.service import Writer, dead_letter_body
from shared import clients
from shared.deadletter import DeadLetters
from shared.entry import event_function

__all__ = ["app", "event", "main"]

_writer = cache(lambda: Writer(clients.store()))  # built on the first message
_dead_letters = DeadLetters(
    clients.bus, id_attribute="normalized_message_id", stage="writer", body=dead_letter_body
)

app, event, main = event_function(
    "writer", lambda message: _writer().handle(message), dead_letter=_dead_letters
)
