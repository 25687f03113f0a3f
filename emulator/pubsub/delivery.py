"""What the broker hands out and takes back: subscriptions and leases in memory, ack ids (and
exactly-once's rule for which are still valid), dead-letter copies, Pub/Sub's attribute limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from google.protobuf.message import Message

from emulator.pubsub.errors import invalid
from emulator.pubsub.names import duration_seconds, rfc3339
from emulator.pubsub.resources import DEFAULT_RETENTION
from emulator.pubsub.signal import Signal
from emulator.pubsub.store import Row, Store

__all__ = [
    "AckedLease",
    "Lease",
    "Settled",
    "Subscription",
    "check_attributes",
    "current_leases",
    "dead_letter_copy",
    "parse_ack_ids",
]

Settled = Callable[[Sequence[str]], None]
AckedLease = tuple[str, int, int]  # (ack id, message id, attempt)


@dataclass(eq=False)
class Subscription:
    """A subscription as the broker keeps it in memory (the protobuf is the stored truth)."""

    id: int
    pb: Message
    signal: Signal = field(default_factory=Signal)
    listeners: set[Settled] = field(default_factory=set)  # told when ack ids are settled

    @property
    def name(self) -> str:
        return str(self.pb.name)

    @property
    def max_attempts(self) -> int:
        if not self.pb.HasField("dead_letter_policy"):
            return 0
        return int(self.pb.dead_letter_policy.max_delivery_attempts)

    @property
    def retention(self) -> float:
        return duration_seconds(self.pb.message_retention_duration) or DEFAULT_RETENTION


@dataclass(frozen=True, slots=True)
class Lease:
    """One message handed out: `attempt` counts from 1."""

    ack_id: str
    row: Row
    attempt: int


def parse_ack_ids(sub: Subscription, ack_ids: Sequence[str]) -> list[AckedLease]:
    """(ack id, msg, attempt) of each ack id issued for this subscription; INVALID_ARGUMENT
    for one that is not an ack id at all."""
    leases = []
    for ack_id in ack_ids:
        try:
            sub_id, msg, attempt = (int(part) for part in ack_id.split("-"))
        except ValueError:
            raise invalid(f"Invalid ack id (ack_id={ack_id})") from None
        if sub_id == sub.id:
            leases.append((ack_id, msg, attempt))
    return leases


def current_leases(
    store: Store, sub: Subscription, leases: list[AckedLease]
) -> tuple[list[AckedLease], list[str]]:
    """Exactly-once: split leases into those still current (the message's latest delivery,
    its deadline not passed) and the ack ids that are not (acked, redelivered, nacked,
    expired). Without exactly-once every lease passes (Pub/Sub's best effort)."""
    if not sub.pb.enable_exactly_once_delivery:
        return leases, []
    state = store.leases(sub.id, [msg for _, msg, _ in leases])
    now = time.time()
    good, bad = [], []
    for lease in leases:
        attempts, due = state.get(lease[1], (0, 0.0))
        if attempts == lease[2] and due > now:
            good.append(lease)
        else:
            bad.append(lease[0])
    return good, bad


def dead_letter_copy(sub: Subscription, row: Row) -> tuple[bytes, bytes, str]:
    """The message republished on the dead-letter topic: Pub/Sub's source attributes added."""
    attributes = orjson.loads(row.attributes)
    attributes.update(
        CloudPubSubDeadLetterSourceDeliveryCount=str(row.attempts),
        CloudPubSubDeadLetterSourceSubscription=sub.name.rsplit("/", 1)[1],
        CloudPubSubDeadLetterSourceSubscriptionProject=sub.name.split("/")[1],
        CloudPubSubDeadLetterSourceTopicPublishTime=rfc3339(row.publish_ns, digits=3),
    )
    return row.data, orjson.dumps(attributes), row.ordering_key


def check_attributes(attributes: Mapping[str, str]) -> None:
    """Pub/Sub's resource limits: 100 attributes, keys of 256 bytes, values of 1024 bytes."""
    if len(attributes) > 100:
        raise invalid(f"a message has {len(attributes)} attributes; the maximum allowed is 100")
    for key, value in attributes.items():
        if len(key) <= 64 and len(value) <= 256:
            continue  # no more than 4 bytes a character: within the limits, no need to encode
        if len(key.encode()) > 256:
            raise invalid(f"the attribute key {key[:64]!r}... is longer than 256 bytes")
        if len(value.encode()) > 1024:
            raise invalid(
                f"the value of attribute {key[:64]!r} is {len(value.encode())} bytes long; "
                "the maximum allowed is 1024"
            )
