"""The door of telemetry: check a device's body (all or nothing) and publish it as one raw message;
the ingest function (HTTP) and the WebSocket gateway submit bodies through the same `Ingest`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from shared.auth.guard import Authenticator
from shared.bus import Bus
from shared.errors import (
    BadRequest,
    PermissionDenied,
    StratusError,
    UnsupportedMediaType,
    ValidationError,
)
from shared.http import parse_json
from shared.telemetry import reference, senml
from shared.telemetry.coalesce import Coalescer, Coalescing, Pending
from shared.telemetry.sensors import AMBIGUOUS, DERIVED, Sensor, SensorIndex
from shared.topics import TELEMETRY_RAW

__all__ = [
    "JSON",
    "RAW_TOPIC",
    "SENML",
    "Body",
    "Device",
    "Ingest",
    "Sensors",
    "idempotency_key",
    "read_body",
]

RAW_TOPIC = TELEMETRY_RAW
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
JSON = "application/json"
SENML = senml.CONTENT_TYPE


@dataclass(frozen=True, slots=True)
class Device:
    """The device a verified token speaks for."""

    id: str
    org: str


@dataclass(frozen=True, slots=True)
class Body:
    """A body that passed the door: its format (`reference` or `senml`, the normalizer's names),
    how many readings it carries, the sensor id each reference reading names, in order, and
    (position in the pack, resolved name) of each SenML record."""

    format: str
    count: int
    sensor_ids: tuple[str, ...] = ()
    names: tuple[tuple[int, str], ...] = ()


class Sensors(Protocol):
    """A device's sensors by id, cached; `refresh` reads them again (False when it did not)."""

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]: ...

    def refresh(self, org: str, device: str) -> bool: ...


def read_body(body: bytes, media_type: str, received_ns: int) -> Body:
    """Check a body syntactically, all or nothing.

    `media_type` is the content type without parameters: `application/json` (or none: the
    format is recognised from the shape) for reference readings or a SenML array,
    `application/senml+json` for SenML. 415 for any other type, 400 (BadRequest, or
    InvalidReadings naming every problem as `readings[3].timestamp` / `records[0].v`) for a
    body that is not one of the formats. Types are the normalizer's business, not checked here.
    """
    if media_type and media_type not in (JSON, SENML):
        raise UnsupportedMediaType(
            f"content type {media_type!r} is not supported; send {JSON} (reference readings) "
            f"or {SENML} (SenML)"
        )
    if not body.strip():
        raise BadRequest("request body is empty; expected a reading, an array of readings or SenML")
    parsed = parse_json(body)  # 400 when not JSON or nested too deep
    # anything that is not SenML is read as reference readings, whose parser names what is wrong
    fmt = "senml" if media_type == SENML or senml.is_pack(parsed) else "reference"
    if fmt == "reference":
        readings = reference.parse(parsed)
        return Body("reference", len(readings), tuple(r.sensor_id for r in readings))
    records = senml.resolve(parsed, received_ns)
    if not records:
        raise ValidationError(
            "the SenML pack carries no reading (only base fields)", field="records"
        )
    return Body("senml", len(records), names=tuple((r.index, r.name) for r in records))


class Ingest:
    """Authenticates devices and publishes their checked bodies to `telemetry-raw`.

    One bus message per body, its data the body exactly as sent, attributes `org`, `device`,
    `format`, `received_ns`, `transport`, `request_id` (functions/normalizer/README.md); with
    `coalescing` on, the bodies of concurrent requests of one organisation share one `batch`
    message instead (`shared.telemetry.coalesce`). The future of `submit` gives the number of
    readings once the bus confirmed the message carrying the body, or raises Unavailable: only
    then may the caller answer the device.
    """

    def __init__(
        self,
        bus: Bus,
        authenticator: Authenticator,
        sensors: Sensors,
        *,
        transport: str = "http",
        topic: str = RAW_TOPIC,
        clock: Callable[[], int] = time.time_ns,
        coalescing: Coalescing | None = None,
    ) -> None:
        self.bus = bus
        self.authenticator = authenticator
        self.sensors = sensors
        self.transport = transport
        self.topic = topic
        self.clock = clock
        self.coalescer: Coalescer | None = None
        if coalescing is not None and coalescing.enabled:
            self.coalescer = Coalescer(bus, topic, transport, coalescing)

    def authenticate(self, authorization: str | None) -> Device:
        """The device of an `authorization: Bearer <device token>` header: 401 when the header is
        missing or malformed, 403 for an invalid, revoked or deleted device's token, or a token
        that is not a device's."""
        principal = self.authenticator.authenticate(authorization)
        if principal.kind != "device":
            raise PermissionDenied(
                f"a {principal.kind} token cannot send telemetry; use the device's token"
            )
        return Device(principal.subject, principal.org)

    def submit(
        self,
        device: Device,
        body: bytes,
        request_id: str,
        media_type: str = "",
        idempotency_key: str | None = None,
    ) -> Future[int]:
        """Check `body` (raising 400, 403 or 415 before anything is published) and publish it.
        `idempotency_key` (checked by `idempotency_key()`) goes along as the attribute
        `idempotency_key`: the writer then names the chunks after it and the readings instead of
        the moment of reception, so a retry of the same body is stored once."""
        received_ns = self.clock()
        checked = read_body(body, media_type, received_ns)
        self._check_sensors(device, checked)
        coalescer = self.coalescer
        if coalescer is not None and len(body) < coalescer.config.max_bytes:
            pending = Pending(
                device.org, device.id, checked.format, received_ns, body, request_id,
                idempotency_key,
            )  # fmt: skip
            coalescer.add(pending)
            return _counted(pending.future, checked.count)
        attributes = {
            "org": device.org,
            "device": device.id,
            "format": checked.format,
            "received_ns": str(received_ns),
            "transport": self.transport,
            "request_id": request_id,
        }
        if idempotency_key is not None:
            attributes["idempotency_key"] = idempotency_key
        return _counted(self.bus.publish(self.topic, body, attributes), checked.count)

    def close(self) -> None:
        """Publish the bodies still held in a coalescing window (their callers get answers)."""
        if self.coalescer is not None:
            self.coalescer.close()

    def _check_sensors(self, device: Device, body: Body) -> None:
        """403 naming the first reading or SenML record whose sensor is not one of the device's
        (400 for a SenML name that fits several of its sensors); the sensors are read again
        before refusing, so a sensor created a moment ago is accepted."""
        problem = _sensor_problem(self.sensors.lookup(device.org, device.id), body)
        if problem is not None and self.sensors.refresh(device.org, device.id):
            problem = _sensor_problem(self.sensors.lookup(device.org, device.id), body)
        if problem is not None:
            raise problem


def _counted(published: Future[str], count: int) -> Future[int]:
    """A future of `count` once `published` is confirmed (or its exception)."""
    result: Future[int] = Future()

    def done(future: Future[str]) -> None:
        error = future.exception()
        if error is None:
            result.set_result(count)
        else:
            result.set_exception(error)

    published.add_done_callback(done)
    return result


def idempotency_key(raw: str | None) -> str | None:
    """The `idempotency-key` header's value: 1..128 printable ASCII characters without spaces
    (a UUID, say), None when absent; 400 naming `idempotency-key` otherwise."""
    if raw is None:
        return None
    key = raw.strip()
    if not _IDEMPOTENCY_KEY.match(key):
        raise ValidationError(
            "idempotency-key must be 1 to 128 printable ASCII characters without spaces",
            field="idempotency-key",
        )
    return key


def _sensor_problem(sensors: Mapping[str, Sensor], body: Body) -> StratusError | None:
    for index, sensor in enumerate(body.sensor_ids):
        known = sensors.get(sensor)
        if known is None or known.derived:
            what = "not a sensor of this device" if known is None else DERIVED
            return PermissionDenied(
                f"readings[{index}].sensor_id: {sensor[:64]!r} is {what}",
                field=f"readings[{index}].sensor_id",
            )
    if not body.names:
        return None
    by_name = SensorIndex(sensors)
    for position, name in body.names:
        found = by_name.match(name)
        field = f"records[{position}].n"
        if found is None:
            return PermissionDenied(
                f"{field}: {name[:64]!r} is not a sensor of this device (by id, tree path or name)",
                field=field,
            )
        if found == AMBIGUOUS:
            return ValidationError(
                f"{field}: {name[:64]!r} matches several sensors of this device; use the tree path",
                field=field,
            )
        if isinstance(found, Sensor) and found.derived:
            return PermissionDenied(f"{field}: {name[:64]!r} is {DERIVED}", field=field)
    return None
