"""Wiring of the deadman function: a clock tick (serverless.yml `schedule`) evaluates silence."""

from __future__ import annotations

import os
import time
from datetime import datetime
from functools import cache

import orjson

from functions.deadman.service import Deadman
from shared import clients
from shared.entry import event_function
from shared.events import Message
from shared.rules.engine import Engine
from shared.settings import env_int

__all__ = ["app", "event", "main", "tick_time"]


@cache
def _deadman() -> Deadman:
    budget = env_int(os.environ, "STRATUS_DEADMAN_SCAN", 1000, minimum=1)
    return Deadman(clients.store(), Engine(clients.store(), clients.bus), scan_budget=budget)


def tick_time(message: Message) -> int:
    """When the tick was due: `scheduled_ns` in its data (the emulator's scheduler), else its
    publish time (Cloud Scheduler), else now."""
    try:
        data = orjson.loads(message.data) if message.data else {}
    except orjson.JSONDecodeError:
        data = {}
    if isinstance(data, dict) and isinstance(data.get("scheduled_ns"), int):
        return int(data["scheduled_ns"])
    if message.publish_time:
        try:
            moment = datetime.fromisoformat(message.publish_time.replace("Z", "+00:00"))
            return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
        except ValueError:
            pass
    return time.time_ns()


def handle(message: Message) -> None:
    _deadman().tick(tick_time(message))


app, event, main = event_function("deadman", handle)
