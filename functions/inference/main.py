"""Wiring of the inference function: remote (KServe v2) models over `inference-requests`."""

from __future__ import annotations

import os
from functools import cache

from functions.inference.service import RemoteScorer
from shared import clients, egress
from shared.deadletter import DeadLetters
from shared.entry import event_function
from shared.events import Message
from shared.inference.scoring import Scoring
from shared.settings import env_int
from shared.topics import INFERENCE_DEAD

__all__ = ["app", "event", "main"]


@cache
def _scorer() -> RemoteScorer:
    attempts = env_int(os.environ, "STRATUS_INFERENCE_MAX_ATTEMPTS", 5, minimum=1)
    scoring = Scoring(clients.store(), clients.bus)
    http = egress.client(allow_private=egress.allowed(os.environ))
    return RemoteScorer(clients.store(), scoring, http, attempts)


def handle(message: Message) -> None:
    _scorer().handle(message.json(), message.delivery_attempt)


app, event, main = event_function(
    "inference",
    handle,
    dead_letter=DeadLetters(
        clients.bus, id_attribute="request_message_id", stage="inference", topic=INFERENCE_DEAD
    ),
)
