"""What identifies a bus message across redeliveries, for functions that count each once, and how
a state document keeps the keys it has seen."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.events import Message

__all__ = ["message_key", "pack_keys", "unpack_keys"]


def message_key(message: Message) -> str:
    """A digest of the message's data and its `received_ns` attribute (else its bus id): the same
    for every redelivery and for a re-publication of the same content by an earlier stage."""
    received = message.attributes.get("received_ns", "") or message.id
    return hashlib.sha256(message.data + b"|" + received.encode()).hexdigest()[:24]


def pack_keys(keys: list[str]) -> str:
    """Seen keys as one stored string (one field value to encode and decode, where an array of
    64 strings cost 64: most of a state document's encoding time)."""
    return " ".join(keys)


def unpack_keys(raw: Any) -> list[str]:
    """The keys of `pack_keys` (an array, as states stored before, reads too)."""
    if isinstance(raw, str):
        return raw.split()
    return [str(key) for key in raw or ()]
