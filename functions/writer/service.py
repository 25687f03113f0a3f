"""The writer core: a normalized message's chunk documents created once, whatever the deliveries.

Documents are only ever created, never updated: each has one write in its life, so Firestore's
sustained limit of about one write per second per document never applies, and a redelivered
message re-creates the same ids, which is a no-op ("create or identical").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from shared.deadletter import original
from shared.errors import BadRequest, Conflict, StratusError, Unavailable
from shared.events import Message
from shared.store import Store
from shared.telemetry.chunks import Chunk, decode_readings, plan
from shared.telemetry.model import NormalizedMessage

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_WRITES",
    "WriteResult",
    "Writer",
    "dead_letter_body",
    "received_ns",
]

_log = logging.getLogger("stratus.writer")

MAX_BATCH_WRITES = 500  # Firestore's limit of writes per commit
MAX_BATCH_BYTES = 8 * 1024 * 1024  # below the 10 MiB request limit
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one message did: chunk documents created now and already present (redelivery)."""

    created: int
    existing: int
    readings: int


def received_ns(attributes: Mapping[str, str], publish_time: str) -> int:
    """When the platform received the readings: the `received_ns` attribute ingest sets, else the
    message's publish time, else 0. It ranks readings of the same sensor and instant."""
    raw = attributes.get("received_ns", "")
    if raw.isdigit():
        return int(raw)
    if publish_time:
        try:
            moment = datetime.fromisoformat(publish_time.replace("Z", "+00:00"))
        except ValueError:
            return 0
        return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
    return 0


def dead_letter_body(message: Message, error: StratusError) -> bytes:
    """The data of the `telemetry-dead` message for a normalized message the writer refuses,
    shaped as the normalizer's: `{"reason", "where", "stage": "writer", "received_ns",
    "original", "problems"?}` (`problems`: every invalid field, when there are several). Its
    attributes are `shared.deadletter`'s, `normalized_message_id` naming the refused message."""
    body = {
        "reason": error.message,
        "where": error.field or "message",
        "stage": "writer",
        "received_ns": received_ns(message.attributes, message.publish_time),
        "original": original(message.data),
    }
    if "problems" in error.details:
        body["problems"] = error.details["problems"]
    return orjson.dumps(body)


def _batches(chunks: Sequence[Chunk]) -> list[list[Chunk]]:
    """Chunks grouped into commits Firestore accepts (one commit for any ordinary message)."""
    out: list[list[Chunk]] = [[]]
    size = 0
    for chunk in chunks:
        cost = len(chunk.data["readings"]) + 1024
        if out[-1] and (len(out[-1]) >= MAX_BATCH_WRITES or size + cost > MAX_BATCH_BYTES):
            out.append([])
            size = 0
        out[-1].append(chunk)
        size += cost
    return out


def _same(existing: Mapping[str, object], chunk: Chunk, *, ignore_received: bool = False) -> bool:
    fields = ("bucket", "first", "last", "count") + (() if ignore_received else ("received",))
    if any(existing.get(name) != chunk.data[name] for name in fields):
        return False
    raw = existing.get("readings")
    return raw == chunk.data["readings"] or (
        raw is not None and decode_readings(raw) == decode_readings(chunk.data["readings"])
    )


@dataclass
class Writer:
    """Writes normalized messages into `store`."""

    store: Store

    def handle(self, message: Message) -> WriteResult:
        """Store the readings of one `telemetry-normalized` bus message (BadRequest when it is
        not a normalized message: dead-lettered)."""
        normalized = NormalizedMessage.from_bytes(message.data)
        received = received_ns(message.attributes, message.publish_time)
        return self.write(normalized, received, message.attributes.get("idempotency_key"))

    def write(
        self, message: NormalizedMessage, received: int, idempotency_key: str | None = None
    ) -> WriteResult:
        """Create the message's chunks. With the client's `idempotency_key` (the message's, or a
        reading's own `key` in a coalesced message) they are named after it and the readings,
        and a chunk found with the same readings is the same request stored before (a client's
        retry, received at another moment): it stays as it is."""
        chunks = plan(message, received, idempotency_key=idempotency_key)
        created = existing = 0
        for group in _batches(chunks):
            made, found = self._write_group(group)
            created, existing = created + made, existing + found
        if existing:
            _log.info(
                "message %s: %d chunk(s) already stored (redelivery), %d created",
                message.source.message_id,
                existing,
                created,
            )
        return WriteResult(created, existing, sum(chunk.count for chunk in chunks))

    def _write_group(self, chunks: list[Chunk]) -> tuple[int, int]:
        """Create every chunk in one commit; when some exist, check they are identical and
        create the rest. Returns (created, already present)."""
        pending = chunks
        present = 0
        for _ in range(_ATTEMPTS):
            batch = self.store.batch()
            for chunk in pending:
                batch.create(chunk.path, chunk.data)
            try:
                batch.commit()
                return len(pending), present
            except Conflict:
                pass
            documents = self.store.get_many([chunk.path for chunk in pending])
            missing = []
            for chunk, document in zip(pending, documents, strict=True):
                if document is None:
                    missing.append(chunk)
                elif not _same(document.data, chunk, ignore_received=chunk.keyed):
                    raise BadRequest(f"{chunk.path} exists with other readings; not overwritten")
                else:
                    present += 1
            if not missing:
                return 0, present
            pending = missing
        raise Unavailable(f"chunks of {chunks[0].path} kept conflicting; will retry")
