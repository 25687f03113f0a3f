"""What identifies a bus message across redeliveries, for functions that count each once."""

from __future__ import annotations

import hashlib

from shared.events import Message

__all__ = ["message_key"]


def message_key(message: Message) -> str:
    """A digest of the message's data and its `received_ns` attribute (else its bus id): the same
    for every redelivery and for a re-publication of the same content by an earlier stage."""
    received = message.attributes.get("received_ns", "") or message.id
    return hashlib.sha256(message.data + b"|" + received.encode()).hexdigest()[:24]
