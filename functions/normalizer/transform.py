"""Core of the normalizer: one raw telemetry message in, typed readings of known sensors out, and
every reading that cannot be stored rejected with its reason (see README.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import BadRequest
from shared.http import MAX_JSON_DEPTH, parse_json
from shared.telemetry import reference, senml
from shared.telemetry.errors import InvalidReadings
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.telemetry.sensors import DERIVED, Sensor, SensorDirectory, SensorIndex
from shared.telemetry.types import TypeMismatch, canonical_type, coerce

__all__ = [
    "FORMATS",
    "Outcome",
    "Rejection",
    "normalize",
]

FORMATS = ("reference", "senml", "batch")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Something that was not stored: a reading, a SenML record, a whole body or batch entry.
    `where` locates it ("readings[3]", "entries[1].payload.records[0]", "entries[2]", "body"),
    `original` is what the device sent for it; `device` is the device it came from when the
    message spans several devices (a bridge batch), else ""."""

    reason: str
    where: str
    original: Any
    format: str
    received_ns: int
    topic: str = ""
    device: str = ""
    request_id: str = ""  # the entry's own request in a coalesced ingest batch

    def to_dict(self) -> dict[str, Any]:
        out = {
            "reason": self.reason,
            "where": self.where,
            "format": self.format,
            "received_ns": self.received_ns,
            "original": self.original,
        }
        if self.topic:
            out["topic"] = self.topic
        if self.device:
            out["device"] = self.device
        if self.request_id:
            out["request_id"] = self.request_id
        return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """The normalized message (None when nothing was accepted) and what was rejected."""

    message: NormalizedMessage | None
    rejected: tuple[Rejection, ...]


def normalize(
    raw: bytes, attributes: Mapping[str, str], sensors: SensorDirectory, received_ns: int
) -> Outcome:
    """Normalize one raw bus message. Attributes: `org`, `device`, `format` (reference, senml
    or batch), and optionally `received_ns` (else `received_ns` here), `transport` (default
    http), `request_id`. A batch may leave `device` out when each entry names its own (the
    bridge's batches of many devices of one organisation). A broken envelope (attributes,
    non-JSON data, a batch that is not an array) raises BadRequest: the whole message is a
    dead letter."""
    org, device, fmt = (attributes.get(k, "") for k in ("org", "device", "format"))
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if not org or (not device and fmt != "batch"):
        raise BadRequest("raw telemetry message without org and device attributes")
    received = _ns(attributes.get("received_ns"), received_ns)
    # a batch wraps each device's body in an array and an entry object: two more levels
    body = parse_json(raw, "raw telemetry message data", MAX_JSON_DEPTH + 2)
    job = _Job(org, device, sensors)
    if fmt == "batch":
        if not isinstance(body, list) or not body:
            raise BadRequest("a batch message must be a non-empty JSON array of entries")
        for index, entry in enumerate(body):
            job.entry(entry, f"entries[{index}]")
    else:
        job.body(fmt, body, received, "", "")
    message = None
    if job.readings:
        source = Source(
            attributes.get("request_id") or attributes.get("message_id") or "",
            attributes.get("transport") or "http",
        )
        message = NormalizedMessage(org, device, source, tuple(job.readings))
    return Outcome(message, tuple(job.rejected))


def _ns(text: str | None, default: int) -> int:
    if text and text.isdigit():
        return int(text)
    return default


class _Job:
    """The state of one normalize call. `device` is the device being read (a batch entry may
    switch it), `message_device` the message's; each device's sensors are asked once, when
    needed."""

    def __init__(self, org: str, device: str, sensors: SensorDirectory) -> None:
        self.org, self.sensors = org, sensors
        self.device = self.message_device = device
        self.readings: list[Reading] = []
        self.rejected: list[Rejection] = []
        self._indexes: dict[str, SensorIndex] = {}
        self.key = self.request_id = ""  # of the batch entry being read (coalesced ingest)

    @property
    def index(self) -> SensorIndex:
        index = self._indexes.get(self.device)
        if index is None:
            index = self._indexes[self.device] = SensorIndex(
                self.sensors.lookup(self.org, self.device)
            )
        return index

    @property
    def own_device(self) -> str:
        """The device readings and rejections name: "" when it is the message's."""
        return "" if self.device == self.message_device else self.device

    def entry(self, entry: Any, where: str) -> None:
        fields: Mapping[str, Any] = entry if isinstance(entry, dict) else {}
        fmt, received, topic = (fields.get(k) for k in ("format", "received_ns", "topic"))
        fmt = fmt if isinstance(fmt, str) else "batch"
        received = received if isinstance(received, int) and not isinstance(received, bool) else 0
        topic = topic if isinstance(topic, str) else ""
        device = fields.get("device", self.message_device)
        self.device = device if isinstance(device, str) else ""
        key, request_id = fields.get("idempotency_key", ""), fields.get("request_id", "")
        self.key = key if isinstance(key, str) else ""
        self.request_id = request_id if isinstance(request_id, str) else ""
        reason = _entry_problem(entry, self.message_device)
        if reason is not None:
            self.rejected.append(
                Rejection(
                    reason, where, entry, fmt, received, topic, self.own_device, self.request_id
                )
            )
            return
        self.body(fmt, fields["payload"], received, topic, f"{where}.payload.")

    def body(self, fmt: str, body: Any, received: int, topic: str, prefix: str) -> None:
        try:
            if fmt == "reference":
                parsed: list[Any] = reference.parse(body)
            else:
                parsed = senml.resolve(body, received)
        except InvalidReadings as exc:
            reason = "; ".join(str(p) for p in exc.problems)
            if exc.total > len(exc.problems):
                reason += f"; and {exc.total - len(exc.problems)} more"
            where = prefix.removesuffix(".") or "body"
            self.rejected.append(
                Rejection(
                    reason, where, body, fmt, received, topic, self.own_device, self.request_id
                )
            )
            return
        device, request_id = self.own_device, self.request_id

        def reject(reason: str, where: str, original: Any) -> None:
            self.rejected.append(
                Rejection(
                    reason, prefix + where, original, fmt, received, topic, device, request_id
                )
            )

        for item in parsed:
            if fmt == "reference":
                self._reading(item, reject)
            else:
                self._record(item, reject)

    def _reading(self, item: reference.RawReading, reject: _Reject) -> None:
        where = f"readings[{item.index}]"
        sensor = self.index.by_id.get(item.sensor_id)
        if sensor is None:
            reason = f"unknown sensor {item.sensor_id!r}: not a sensor of device {self.device!r}"
            reject(reason, where, item.original)
            return
        self._accept(sensor, item.ts, item.value, sensor.unit, where, item.original, reject)

    def _record(self, record: senml.Record, reject: _Reject) -> None:
        where = f"records[{record.index}]"
        found = self.index.find(record.name)
        if isinstance(found, str):
            reject(f"{found} (device {self.device!r})", where, record.original)
            return
        if record.kind == "sum":
            reason = f"sensor {found.id!r}: a sum (s) without a value is not stored"
            reject(reason, where, record.original)
            return
        if record.unit is not None and found.unit is not None and record.unit != found.unit:
            reason = f"sensor {found.id!r}: unit {record.unit!r} is not the sensor's {found.unit!r}"
            reject(reason, where, record.original)
            return
        unit = found.unit if found.unit is not None else record.unit
        accepted = self._accept(
            found, record.time, record.value, unit, where, record.original, reject
        )
        if accepted and record.sum is not None:
            reason = f"sensor {found.id!r}: the sum (s) next to the value is not stored"
            reject(reason, f"{where}.s", record.original)

    def _accept(
        self,
        sensor: Sensor,
        ts: int,
        value: Any,
        unit: str | None,
        where: str,
        original: Any,
        reject: _Reject,
    ) -> bool:
        if sensor.derived:
            reject(f"sensor {sensor.id!r} is {DERIVED}", where, original)
            return False
        try:
            type_ = canonical_type(sensor.type)
            typed = coerce(value, type_)
        except TypeMismatch as exc:
            reject(f"sensor {sensor.id!r}: {exc}", where, original)
            return False
        except ValueError as exc:  # the directory holds a type we do not know
            reject(f"sensor {sensor.id!r}: {exc}", where, original)
            return False
        self.readings.append(Reading(sensor.id, ts, typed, type_, unit, self.own_device, self.key))
        return True


_Reject = Callable[[str, str, Any], None]


def _entry_problem(entry: Any, message_device: str) -> str | None:
    """Why a batch entry cannot be read, or None."""
    if not isinstance(entry, dict):
        return "a batch entry must be an object {format, received_ns, topic, payload}"
    device = entry.get("device", message_device)
    if not isinstance(device, str) or not device:
        return "a batch entry must name its device when the message has none"
    fmt = entry.get("format")
    if fmt == "state":
        return "a state entry belongs on the device-state topic, not telemetry"
    if fmt not in ("reference", "senml"):
        return f"batch entry format {fmt!r} is not reference or senml"
    received = entry.get("received_ns")
    if not isinstance(received, int) or isinstance(received, bool) or received < 0:
        return "batch entry received_ns must be a non-negative integer"
    if not isinstance(entry.get("topic", ""), str):
        return "batch entry topic must be a string"
    key = entry.get("idempotency_key", "")
    if not isinstance(key, str) or ("idempotency_key" in entry and not key):
        return "batch entry idempotency_key must be a non-empty string"
    if "payload" not in entry:
        return "batch entry has no payload"
    return None
