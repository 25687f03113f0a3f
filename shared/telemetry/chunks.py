"""The chunk layout: which documents a normalized message becomes, and how readings are encoded.

One document per (sensor, hour bucket, message) at
`orgs/{org}/devices/{device}/sensors/{sensor}/chunks/{bucket:012d}-{key}[-{part}]`, where `key`
is a digest of the whole message (so the same message always maps to the same ids, whatever
delivered it) and `part` numbers the extra documents of a chunk too big for one. Every field is a
pure function of the message, which is what makes re-creating a document a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from shared.telemetry.model import NormalizedMessage

__all__ = [
    "BUCKET_NS",
    "MAX_CHUNK_BYTES",
    "Chunk",
    "bucket_of",
    "chunks_path",
    "decode_readings",
    "encode_readings",
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
    else:
        readings = message.to_dict()["readings"]
        body = orjson.dumps(["idempotent", idempotency_key, message.org, message.device, readings])
    return hashlib.sha256(body).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One document to create: its path and its fields."""

    path: str
    data: dict[str, Any]

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
    """The chunk documents of a message, in path order (named after `idempotency_key` and the
    readings when the client gave one: see `message_key`).

    Readings are grouped by device, sensor and hour bucket and sorted by time; a timestamp repeated
    within the message keeps its last value (message order), as a later message would win.
    """
    key = message_key(message, received_ns, idempotency_key)
    groups: dict[tuple[str, str, int], dict[int, Any]] = {}
    types: dict[tuple[str, str], str] = {}
    for reading in message.readings:  # the hot loop: bucket_of and device_of inlined
        device, sensor, ts = reading.device or message.device, reading.sensor, reading.ts
        group = (device, sensor, ts // BUCKET_NS)
        by_ts = groups.get(group)
        if by_ts is None:
            by_ts = groups[group] = {}
            types.setdefault((device, sensor), reading.type)
        by_ts[ts] = reading.value
    out: list[Chunk] = []
    for (device, sensor, bucket), by_ts in groups.items():
        readings = sorted(by_ts.items(), key=lambda item: item[0])
        base = f"{chunks_path(message.org, device, sensor)}/{bucket:012d}-{key}"
        for index, (part, encoded) in enumerate(_parts(readings, max_bytes)):
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
            out.append(Chunk(base if index == 0 else f"{base}-{index}", data))
    out.sort(key=lambda chunk: chunk.path)
    return out
