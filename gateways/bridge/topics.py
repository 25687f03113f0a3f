"""What an MQTT message is, from its topic and payload: device, kind, format, batch entry bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared.telemetry import senml

__all__ = ["Route", "detect_format", "encode_entry", "route"]


@dataclass(frozen=True, slots=True)
class Route:
    """A device topic: `kind` is "events" (telemetry, `sub` the sub-topic) or "state"."""

    device: str
    kind: str
    sub: str = ""


def route(topic: str) -> Route | None:
    """The route of `devices/{id}/events[/sub...]`, `devices/{id}/state` or the bare `{id}`."""
    parts = topic.split("/")
    if len(parts) == 1:
        return Route(topic, "events") if topic and not topic.startswith("$") else None
    if len(parts) < 3 or parts[0] != "devices" or not parts[1]:
        return None
    if parts[2] == "events":
        return Route(parts[1], "events", "/".join(parts[3:]))
    if parts[2] == "state" and len(parts) == 3:
        return Route(parts[1], "state")
    return None


def detect_format(value: Any, content_type: str = "") -> str:
    """ "senml" or "reference" for a parsed payload; ValueError (the reason) when it is neither."""
    if senml.is_senml(content_type):
        if not isinstance(value, list) or not value:
            raise ValueError("SenML payload must be a non-empty JSON array of records")
        return "senml"
    first = value[0] if isinstance(value, list) and value else value
    if isinstance(first, dict) and "sensor_id" in first:
        return "reference"
    if senml.is_pack(value):
        return "senml"
    if isinstance(value, list) and not value:
        raise ValueError("payload is an empty array")
    raise ValueError(
        "payload is neither reference readings ({sensor_id, timestamp, value} or an array of "
        "them) nor a SenML array"
    )


def encode_entry(fmt: str, received_ns: int, topic: str, device: str, payload: bytes) -> bytes:
    """One entry of a batch message: `{"format","received_ns","topic","device","payload"}`, the
    payload embedded as the JSON text the device sent (already checked to parse)."""
    return b"".join(
        (
            b'{"format":"',
            fmt.encode(),
            b'","received_ns":',
            str(received_ns).encode(),
            b',"topic":',
            orjson.dumps(topic),
            b',"device":',
            orjson.dumps(device),
            b',"payload":',
            payload,
            b"}",
        )
    )
