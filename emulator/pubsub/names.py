"""Resource names (`projects/P/topics/T`, `projects/P/subscriptions/S`), durations and times."""

from __future__ import annotations

import re
import time

from google.protobuf import duration_pb2

from emulator.pubsub.errors import invalid

__all__ = [
    "duration_seconds",
    "require_project",
    "require_subscription",
    "require_topic",
    "rfc3339",
    "set_duration",
]

_ID = r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}"
_TOPIC = re.compile(rf"^projects/([^/]+)/topics/({_ID})$")
_SUBSCRIPTION = re.compile(rf"^projects/([^/]+)/subscriptions/({_ID})$")
_PROJECT = re.compile(r"^projects/([^/]+)$")


def _require(pattern: re.Pattern[str], name: str, what: str, example: str) -> str:
    match = pattern.match(name)
    if match is None or match.group(2).lower().startswith("goog"):
        raise invalid(f"invalid {what} name {name!r}: expected {example}")
    return name


def require_topic(name: str) -> str:
    """`name` when it is a valid topic name, else INVALID_ARGUMENT."""
    return _require(_TOPIC, name, "topic", "projects/<project>/topics/<topic>")


def require_subscription(name: str) -> str:
    """`name` when it is a valid subscription name, else INVALID_ARGUMENT."""
    return _require(
        _SUBSCRIPTION, name, "subscription", "projects/<project>/subscriptions/<subscription>"
    )


def require_project(name: str) -> str:
    """`name` when it is `projects/<project>`, else INVALID_ARGUMENT."""
    if not _PROJECT.match(name):
        raise invalid(f"invalid project {name!r}: expected projects/<project>")
    return name


def duration_seconds(duration: duration_pb2.Duration) -> float:
    return float(duration.seconds + duration.nanos / 1e9)


def set_duration(target: duration_pb2.Duration, seconds: float) -> None:
    whole = int(seconds)
    target.seconds, target.nanos = whole, round((seconds - whole) * 1e9)


def rfc3339(ns: int, digits: int = 9) -> str:
    """`2026-11-02T10:00:00.123456789Z`, the form Pub/Sub push bodies use (`digits=3`:
    milliseconds, as in the dead-letter attribute CloudPubSubDeadLetterSourceTopicPublishTime)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    fraction = f"{nanos:09d}"[:digits]
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction}Z"
