"""Turning leased rows into the protobuf messages Pull and StreamingPull answer with."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.delivery import Lease, Subscription

__all__ = ["received"]

_Received = types.ReceivedMessage.pb()


def received(sub: Subscription, leases: Sequence[Lease]) -> list[Message]:
    """ReceivedMessage protobufs; delivery_attempt only with a dead-letter policy (as Pub/Sub)."""
    with_attempt = sub.max_attempts > 0
    out = []
    for lease in leases:
        row = lease.row
        item = _Received(ack_id=lease.ack_id)
        message = item.message
        message.data = row.data
        message.message_id = str(row.msg)
        message.ordering_key = row.ordering_key
        message.attributes.update(orjson.loads(row.attributes))
        seconds, nanos = divmod(row.publish_ns, 1_000_000_000)
        message.publish_time.seconds, message.publish_time.nanos = seconds, nanos
        if with_attempt:
            item.delivery_attempt = lease.attempt
        out.append(item)
    return out
