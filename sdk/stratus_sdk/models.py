"""The typed values clients return: what the API answers, as frozen dataclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "BootstrapInfo",
    "Consumer",
    "DataPoint",
    "Device",
    "Mapping",
    "Org",
    "Registration",
    "Sensor",
    "StreamEvent",
    "User",
]

T = TypeVar("T")


def _build(cls: type[T], data: dict[str, Any]) -> T:
    """`cls` from an API object, ignoring fields this SDK version does not know."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    name: str
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Org:
        return _build(cls, data)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    role: str
    org: str = ""
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return _build(cls, data)


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    name: str
    description: str = ""
    key_version: int = 1
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Device:
        return _build(cls, data)


@dataclass(frozen=True, slots=True)
class Mapping:
    type: str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Sensor:
    id: str
    device_id: str
    name: str
    mapping: Mapping
    description: str = ""
    path: str = ""
    tree_path: str = ""
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sensor:
        mapping = data.get("mapping") or {}
        return _build(
            cls, {**data, "mapping": Mapping(mapping.get("type", ""), mapping.get("unit"))}
        )


@dataclass(frozen=True, slots=True)
class Consumer:
    id: str
    name: str
    description: str = ""
    sensors: tuple[str, ...] = ()
    key_version: int = 1
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Consumer:
        return _build(cls, {**data, "sensors": tuple(data.get("sensors", ()))})


@dataclass(frozen=True, slots=True)
class Registration:
    """A bootstrap registration; `external_key` only in the answer that created or rotated it."""

    external_id: str
    name: str
    enabled: bool
    key_version: int
    description: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    sensors: tuple[dict[str, Any], ...] = ()
    device_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    bootstrapped_at: str | None = None
    external_key: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Registration:
        return _build(cls, {**data, "sensors": tuple(data.get("sensors", ()))})


@dataclass(frozen=True, slots=True)
class BootstrapInfo:
    """What `GET /bootstrap/{external_id}` gives a device."""

    device_id: str
    device_token: str
    key_version: int
    created: bool
    sensors: tuple[Sensor, ...]
    config: dict[str, Any]
    broker: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BootstrapInfo:
        sensors = tuple(Sensor.from_json(s) for s in data.get("sensors", ()))
        return _build(cls, {**data, "sensors": sensors})


@dataclass(frozen=True, slots=True)
class DataPoint:
    """A reading (or an aggregate's interval): `timestamp` in ns since the epoch."""

    timestamp: int
    value: Any


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """A live reading from a stream; `id` is what resumption continues after."""

    id: str
    device_id: str
    sensor_id: str
    timestamp: int
    value: Any
