"""Wiring of the scorer: detectors over `telemetry-normalized`, in-process (ONNX lazily)."""

from __future__ import annotations

import os
import time
from functools import cache

from functions.scorer.service import Scorer
from shared import clients
from shared.deadletter import DeadLetters
from shared.entry import event_function
from shared.events import Message
from shared.inference.bindings import BindingSource
from shared.inference.onnx_models import OnnxRunner
from shared.inference.scoring import Scoring
from shared.redelivery import message_key
from shared.settings import env_int
from shared.telemetry.model import NormalizedMessage

__all__ = ["app", "event", "main"]


@cache
def _scorer() -> Scorer:
    ttl = env_int(os.environ, "STRATUS_DETECTOR_CACHE_SECONDS", 5)
    scoring = Scoring(clients.store(), clients.bus, OnnxRunner(clients.store()))
    return Scorer(BindingSource(clients.store, ttl), scoring, clients.bus)


def handle(message: Message) -> None:
    normalized = NormalizedMessage.from_bytes(message.data)
    raw = message.attributes.get("received_ns", "")
    received = int(raw) if raw.isdigit() else time.time_ns()
    _scorer().handle(normalized, message_key(message), received)


app, event, main = event_function(
    "scorer",
    handle,
    dead_letter=DeadLetters(clients.bus, id_attribute="scored_message_id", stage="scorer"),
)
