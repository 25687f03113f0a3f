"""Wiring of the evaluator: rules over `telemetry-normalized` readings and `anomalies` events."""

from __future__ import annotations

import os
import time
from functools import cache

from functions.evaluator.service import Evaluator
from shared import clients
from shared.deadletter import DeadLetters
from shared.entry import event_function
from shared.events import Message
from shared.redelivery import message_key
from shared.rules.engine import Engine
from shared.rules.source import RuleSource
from shared.settings import env_int
from shared.telemetry.model import NormalizedMessage
from shared.telemetry.sensors import cached_store_directory

__all__ = ["app", "event", "main"]


@cache
def _evaluator() -> Evaluator:
    ttl = env_int(os.environ, "STRATUS_RULE_CACHE_SECONDS", 5)
    return Evaluator(
        Engine(clients.store(), clients.bus),
        RuleSource(clients.store, ttl),
        cached_store_directory(clients.store),
    )


def _received(message: Message) -> int:
    raw = message.attributes.get("received_ns", "")
    return int(raw) if raw.isdigit() else time.time_ns()


def handle(message: Message) -> None:
    """One `telemetry-normalized` message, or one `anomalies` event (attribute event=anomaly)."""
    if message.attributes.get("event") == "anomaly":
        _evaluator().anomaly(message.json(), _received(message))
        return
    normalized = NormalizedMessage.from_bytes(message.data)
    _evaluator().readings(normalized, message_key(message), _received(message))


app, event, main = event_function(
    "evaluator",
    handle,
    dead_letter=DeadLetters(clients.bus, id_attribute="evaluated_message_id", stage="evaluator"),
)
