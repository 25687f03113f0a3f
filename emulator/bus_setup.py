"""Create the manifest's topics and push subscriptions on the bus, through the official client.

The resources are the manifest's (`Manifest.topics`, `.pull_subscriptions`, `.subscriptions`):
`python -m infra plan` creates the same ones on Google Cloud (`infra/pubsub.py`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # no py.typed
from google.protobuf import duration_pb2, field_mask_pb2
from google.pubsub_v1 import types

from shared.manifest import Manifest, SubscriptionSpec

__all__ = ["ensure_bus", "push_endpoint"]


def push_endpoint(base_url: str, function: str, token: str) -> str:
    """Where the bus pushes a function's messages on the emulator's host."""
    from emulator.host.app import EVENTS_PREFIX

    return f"{base_url}{EVENTS_PREFIX}{function}?token={token}"


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))


def _subscription(project: str, spec: SubscriptionSpec, endpoint: str) -> types.Subscription:
    sub = types.Subscription(
        name=f"projects/{project}/subscriptions/{spec.name}",
        topic=f"projects/{project}/topics/{spec.topic}",
        push_config=types.PushConfig(push_endpoint=endpoint),
        ack_deadline_seconds=spec.ack_deadline_seconds,
        retry_policy=types.RetryPolicy(
            minimum_backoff=_duration(spec.minimum_backoff),
            maximum_backoff=_duration(spec.maximum_backoff),
        ),
    )
    if spec.dead_letter_topic:
        sub.dead_letter_policy = types.DeadLetterPolicy(
            dead_letter_topic=f"projects/{project}/topics/{spec.dead_letter_topic}",
            max_delivery_attempts=spec.max_delivery_attempts,
        )
    return sub


def ensure_bus(
    manifest: Manifest,
    project: str,
    base_url: str,
    token: str,
    *,
    endpoint: Callable[[SubscriptionSpec], str] | None = None,
) -> None:
    """Idempotently create topics, kept pull subscriptions and push subscriptions.

    Existing push subscriptions are updated (endpoint, deadline, retry and dead-letter policies),
    so a restart with a new push token or port takes effect. Uses PUBSUB_EMULATOR_HOST. Pushes go
    to the host (`push_endpoint`) unless `endpoint` says where each subscription pushes (the
    deploy validation points them at the built artefacts).
    """
    where = endpoint or (lambda spec: push_endpoint(base_url, spec.function, token))
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    try:
        for topic in manifest.topics.values():
            with contextlib.suppress(gexc.AlreadyExists):
                publisher.create_topic(
                    request={
                        "name": publisher.topic_path(project, topic.name),
                        "message_retention_duration": _duration(topic.retention_seconds),
                    }
                )
        for pull in manifest.pull_subscriptions:
            with contextlib.suppress(gexc.AlreadyExists):
                subscriber.create_subscription(
                    request={
                        "name": subscriber.subscription_path(project, pull.name),
                        "topic": publisher.topic_path(project, pull.topic),
                        "message_retention_duration": _duration(pull.retention_seconds),
                    }
                )
        for spec in manifest.subscriptions:
            wanted = _subscription(project, spec, where(spec))
            try:
                subscriber.create_subscription(request=wanted)
            except gexc.AlreadyExists:
                paths = ["push_config", "ack_deadline_seconds", "retry_policy"]
                paths.append("dead_letter_policy")
                subscriber.update_subscription(
                    request={
                        "subscription": wanted,
                        "update_mask": field_mask_pb2.FieldMask(paths=paths),
                    }
                )
    finally:
        subscriber.close()
        publisher.transport.close()
