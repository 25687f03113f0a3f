"""Validation, defaults and field-mask updates for topics and subscriptions (protobuf messages)."""

from __future__ import annotations

from urllib.parse import urlparse

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.errors import invalid
from emulator.pubsub.names import duration_seconds, require_topic, set_duration

__all__ = [
    "DEFAULT_RETENTION",
    "DELETED_TOPIC",
    "SubscriptionPb",
    "TopicPb",
    "apply_mask",
    "normalize_subscription",
    "normalize_topic",
]

TopicPb = types.Topic.pb()
SubscriptionPb = types.Subscription.pb()

DEFAULT_RETENTION = 7 * 24 * 3600.0
MAX_RETENTION = 31 * 24 * 3600.0
DELETED_TOPIC = "_deleted-topic_"
_ACTIVE = 1  # Subscription.State.ACTIVE / Topic.State.ACTIVE


def apply_mask(stored: Message, update: Message, mask: field_mask_pb2.FieldMask) -> Message:
    """A copy of `stored` with the top-level fields named in `mask` taken from `update`."""
    if not mask.paths:
        raise invalid("update_mask must name at least one field")
    fields = stored.DESCRIPTOR.fields_by_name
    for path in mask.paths:
        top = path.split(".", 1)[0]
        if top not in fields:
            raise invalid(f"update_mask names an unknown field {path!r}")
        if top in ("name", "topic"):
            raise invalid(f"field {path!r} cannot be updated")
    result = type(stored)()
    result.CopyFrom(stored)
    mask.MergeMessage(update, result, replace_message_field=True, replace_repeated_field=True)
    return result


def _retention(value: float, what: str) -> None:
    if value < 0 or value > MAX_RETENTION:
        raise invalid(f"{what} must be between 0 and 31 days, got {value} s")


def normalize_topic(topic: Message) -> None:
    """Check a topic in place and fill what Pub/Sub fills."""
    _retention(duration_seconds(topic.message_retention_duration), "message_retention_duration")
    topic.state = _ACTIVE


def normalize_subscription(sub: Message, topic: Message | None) -> None:
    """Check a subscription in place and fill its defaults.

    Deliberately laxer than Pub/Sub so tests run fast: an ack deadline from 1 s (Pub/Sub: 10 s),
    retention from 1 s (Pub/Sub: 10 min), max_delivery_attempts from 1 (Pub/Sub: 5).
    """
    if sub.ack_deadline_seconds == 0:
        sub.ack_deadline_seconds = 10
    if not 1 <= sub.ack_deadline_seconds <= 600:
        raise invalid(f"ack_deadline_seconds must be 1..600, got {sub.ack_deadline_seconds}")
    if not sub.HasField("message_retention_duration"):
        set_duration(sub.message_retention_duration, DEFAULT_RETENTION)
    _retention(duration_seconds(sub.message_retention_duration), "message_retention_duration")
    if topic is not None and topic.HasField("message_retention_duration"):
        sub.topic_message_retention_duration.CopyFrom(topic.message_retention_duration)
    sub.push_config.SetInParent()  # present even when empty, as Pub/Sub answers
    endpoint = sub.push_config.push_endpoint
    if endpoint:
        url = urlparse(endpoint)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise invalid(f"push_endpoint must be an http(s) URL, got {endpoint!r}")
    if sub.HasField("dead_letter_policy"):
        policy = sub.dead_letter_policy
        if not policy.dead_letter_topic:
            raise invalid("dead_letter_policy.dead_letter_topic is required")
        require_topic(policy.dead_letter_topic)
        if policy.max_delivery_attempts == 0:
            policy.max_delivery_attempts = 5
        if not 1 <= policy.max_delivery_attempts <= 100:
            raise invalid(
                f"max_delivery_attempts must be 1..100, got {policy.max_delivery_attempts}"
            )
    if sub.HasField("retry_policy"):
        low = duration_seconds(sub.retry_policy.minimum_backoff)
        high = duration_seconds(sub.retry_policy.maximum_backoff)
        if low < 0 or high < 0 or (sub.retry_policy.HasField("maximum_backoff") and high < low):
            raise invalid("retry_policy needs 0 <= minimum_backoff <= maximum_backoff")
    sub.state = _ACTIVE
