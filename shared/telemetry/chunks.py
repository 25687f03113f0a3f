"""The chunk layout: which documents a normalized message becomes, and how readings are encoded.

One document per (sensor, hour bucket, message) at
`orgs/{org}/devices/{device}/sensors/{sensor}/chunks/{bucket:012d}-{key}[-{part}]`, where `key`
is a digest of the whole message (so the same message always maps to the same ids, whatever
delivered it), or of an idempotency key and its request's readings, and `part` numbers the
extra documents of a chunk too big for one. Every field is a
pure function of the message, which is what makes re-creating a document a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from shared.telemetry.model import NormalizedMessage, Reading

__all__ = [
    "BUCKET_NS",
    "MAX_CHUNK_BYTES",
    "Chunk",
    "bucket_of",
    "chunks_path",
    "decode_pairs",
    "decode_readings",
    "encode_readings",
    "keyed_key",
    "message_key",
    "plan",
]

BUCKET_NS = 3_600_000_000_000  # one hour
MAX_CHUNK_BYTES = 512 * 1024  # encoded readings per document; Firestore allows 1 MiB per document


def bucket_of(ts: int) -> int:
    """The hour bucket of a timestamp (ns since the epoch)."""
    return ts // BUCKET_NS


def chunks_path(org: str, device: str, sensor: str) -> str:
    """The collection holding a sensor's chunks."""
    return f"orgs/{org}/devices/{device}/sensors/{sensor}/chunks"


def encode_readings(readings: Sequence[tuple[int, Any]]) -> bytes:
    """`[[ts, value], ...]` as compact JSON bytes (Firestore forbids arrays inside arrays)."""
    return orjson.dumps([[ts, value] for ts, value in readings])


def decode_readings(raw: Any) -> list[tuple[int, Any]]:
    """The readings of a chunk document's `readings` field (bytes, or text from older writers)."""
    return [(int(ts), value) for ts, value in orjson.loads(raw)]


def decode_pairs(raw: Any) -> list[Any]:
    """The same readings as `[ts, value]` lists, as orjson gives them (no tuple per reading:
    the query's hot path, which only unpacks them)."""
    pairs: list[Any] = orjson.loads(raw)
    return pairs


def message_key(
    message: NormalizedMessage, received_ns: int, idempotency_key: str | None = None
) -> str:
    """20 hex characters naming the message's documents: a digest of everything in it, so a
    redelivery (or a re-publication of the same message by the normalizer) finds the same ids,
    and two different messages never share them even when a client reuses a request id.

    With the client's `idempotency_key`, the digest is of the key, the organisation, the device
    and the readings only (not the moment of reception nor the request id): a client's retry of
    the same body (a new request, received later) finds the same ids and is stored once."""
    if idempotency_key is None:
        body = orjson.dumps([message.to_dict(), received_ns])
        return hashlib.sha256(body).hexdigest()[:20]
    return keyed_key(idempotency_key, message.org, message.device, message.readings)


def keyed_key(idempotency_key: str, org: str, device: str, readings: Sequence[Reading]) -> str:
    """The digest naming one request's readings after its idempotency key, whether the request
    had a message to itself or shared a coalesced one: the readings as that request's own
    message would list them (without `device` and `key`)."""
    listed = []
    for reading in readings:
        item = reading.to_dict()
        item.pop("device", None)
        item.pop("key", None)
        listed.append(item)
    body = orjson.dumps(["idempotent", idempotency_key, org, device, listed])
    return hashlib.sha256(body).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One document to create: its path and its fields."""

    path: str
    data: dict[str, Any]
    keyed: bool = False  # named after a client's idempotency key (a retry may find it stored)

    @property
    def count(self) -> int:
        return int(self.data["count"])


def _parts(
    readings: list[tuple[int, Any]], limit: int
) -> Iterable[tuple[list[tuple[int, Any]], bytes]]:
    """The readings in consecutive runs whose encoding stays under `limit` bytes (at least one
    reading each), with that encoding; nearly always one run, encoded once."""
    whole = encode_readings(readings)
    if len(whole) <= limit:
        yield readings, whole
        return
    for part in _split(readings, limit):
        yield part, encode_readings(part)


def _split(readings: list[tuple[int, Any]], limit: int) -> Iterable[list[tuple[int, Any]]]:
    """Consecutive runs of readings whose encoding stays under `limit` bytes (at least one)."""
    part: list[tuple[int, Any]] = []
    size = 2
    for reading in readings:
        cost = len(orjson.dumps([reading[0], reading[1]])) + 1
        if part and size + cost > limit:
            yield part
            part, size = [], 2
        part.append(reading)
        size += cost
    if part:
        yield part


def plan(
    message: NormalizedMessage,
    received_ns: int,
    *,
    max_bytes: int = MAX_CHUNK_BYTES,
    idempotency_key: str | None = None,
) -> list[Chunk]:
    """The chunk documents of a message, in path order.

    Readings without an idempotency key (neither their own `key` nor the message's
    `idempotency_key`) are named after the whole message (`message_key`); the readings of each
    key and device after that key and those readings (`keyed_key`), so a request coalesced with
    others maps to the ids it would have alone. Readings are grouped by device, sensor and hour
    bucket and sorted by time; a timestamp repeated within a group keeps its last value
    (message order), as a later message would win.
    """
    readings = message.readings
    if idempotency_key is None and not any(reading.key for reading in readings):
        out = _chunks(message, readings, message_key(message, received_ns), received_ns, max_bytes)
    else:
        plain: list[Reading] = []
        keyed: dict[tuple[str, str], list[Reading]] = {}
        for reading in readings:
            key = reading.key or idempotency_key
            if key:
                keyed.setdefault((key, reading.device or message.device), []).append(reading)
            else:
                plain.append(reading)
        out = []
        if plain:
            name = message_key(message, received_ns)
            out += _chunks(message, plain, name, received_ns, max_bytes)
        for (key, device), group in keyed.items():
            name = keyed_key(key, message.org, device, group)
            out += _chunks(message, group, name, received_ns, max_bytes, keyed=True)
    out.sort(key=lambda chunk: chunk.path)
    return out


def _chunks(
    message: NormalizedMessage,
    readings: Sequence[Reading],
    key: str,
    received_ns: int,
    max_bytes: int,
    *,
    keyed: bool = False,
) -> list[Chunk]:
    groups: dict[tuple[str, str, int], dict[int, Any]] = {}
    types: dict[tuple[str, str], str] = {}
    for reading in readings:  # the hot loop: bucket_of and device_of inlined
        device, sensor, ts = reading.device or message.device, reading.sensor, reading.ts
        group = (device, sensor, ts // BUCKET_NS)
        by_ts = groups.get(group)
        if by_ts is None:
            by_ts = groups[group] = {}
            types.setdefault((device, sensor), reading.type)
        by_ts[ts] = reading.value
    out: list[Chunk] = []
    for (device, sensor, bucket), by_ts in groups.items():
        ordered = sorted(by_ts.items(), key=lambda item: item[0])
        base = f"{chunks_path(message.org, device, sensor)}/{bucket:012d}-{key}"
        for index, (part, encoded) in enumerate(_parts(ordered, max_bytes)):
            data = {
                "bucket": bucket,
                "first": part[0][0],
                "last": part[-1][0],
                "count": len(part),
                "readings": encoded,
                "type": types[device, sensor],
                "received": received_ns,
                "message": message.source.message_id,
                "transport": message.source.transport,
            }
            out.append(Chunk(base if index == 0 else f"{base}-{index}", data, keyed))
    return out
