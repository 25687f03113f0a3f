"""Publishing and pulling on both emulators: data, attributes, order, acks, nacks, ordering keys."""

from __future__ import annotations

import re

import pytest

from tests.differential.pubsub.conftest import Clients, status

pytestmark = pytest.mark.process


def _setup(c: Clients, **options) -> tuple[str, str]:
    topic, sub = c.topic("stream"), c.sub("stream")
    c.publisher.create_topic(name=topic)
    c.subscriber.create_subscription(request={"name": sub, "topic": topic, **options})
    return topic, sub


def _pull(c: Clients, sub: str, n: int = 20, immediately: bool = False) -> list:
    request = {"subscription": sub, "max_messages": n}
    if immediately:
        request["return_immediately"] = True
    return list(c.subscriber.pull(request=request).received_messages)


def _seen(received: list, ids: list[str]) -> list[dict]:
    """What a subscriber sees, with message ids as positions in publish order."""
    return [
        {
            "message": ids.index(r.message.message_id),
            "data": r.message.data,
            "attributes": dict(r.message.attributes),
            "ordering_key": r.message.ordering_key,
            "delivery_attempt": r.delivery_attempt,
        }
        for r in received
    ]


def test_publish_pull_ack_nack(compare):
    def scenario(c: Clients):
        topic, sub = _setup(c, ack_deadline_seconds=60)
        ids = [
            c.publisher.publish(topic, f"m{i}".encode(), n=str(i), kind="reading").result()
            for i in range(5)
        ]
        ids.append(c.publisher.publish(topic, b"", only="attributes").result())
        first = _pull(c, sub)
        ordered_ids = sorted(ids, key=int) == ids
        c.subscriber.acknowledge(subscription=sub, ack_ids=[r.ack_id for r in first[:3]])
        c.subscriber.modify_ack_deadline(
            subscription=sub, ack_ids=[first[3].ack_id], ack_deadline_seconds=0
        )
        again = _pull(c, sub)
        c.subscriber.acknowledge(subscription=sub, ack_ids=[r.ack_id for r in again])
        return {
            "ids increase": ordered_ids,
            "first": _seen(first, ids),
            "after nack": _seen(again, ids),
            "drained": _seen(_pull(c, sub, immediately=True), ids),
            "ack again": status(
                lambda: c.subscriber.acknowledge(subscription=sub, ack_ids=[first[0].ack_id])
            ),
        }

    ours, google = compare(scenario)
    assert ours == google


def test_fan_out_and_late_subscription(compare):
    def scenario(c: Clients):
        topic = c.topic("fan")
        c.publisher.create_topic(name=topic)
        for name in ("sub-a", "sub-b"):
            c.subscriber.create_subscription(name=c.sub(name), topic=topic)
        early = c.publisher.publish(topic, b"early").result()
        c.subscriber.create_subscription(name=c.sub("late"), topic=topic)
        late = c.publisher.publish(topic, b"late").result()
        ids = [early, late]
        return {name: _seen(_pull(c, c.sub(name)), ids) for name in ("sub-a", "sub-b", "late")}

    ours, google = compare(scenario)
    assert ours == google


def test_dead_letter_delivery_attempts(compare):
    def scenario(c: Clients):
        dead = c.topic("dead")
        c.publisher.create_topic(name=dead)
        c.subscriber.create_subscription(name=c.sub("dead"), topic=dead)
        topic, sub = _setup(
            c, dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 5}
        )
        ids = [c.publisher.publish(topic, b"poison").result()]
        attempts = []
        for _ in range(5):
            got = _pull(c, sub)
            attempts += [r.delivery_attempt for r in got]
            c.subscriber.modify_ack_deadline(
                subscription=sub, ack_ids=[r.ack_id for r in got], ack_deadline_seconds=0
            )
        # Google's emulator moves the message when the source is pulled again (ours also does
        # it in the background)
        source = _pull(c, sub, immediately=True)
        lettered = _pull(c, c.sub("dead"))
        return {
            "attempts": attempts,
            "source empty": source,
            "dead letter data": [r.message.data for r in lettered],
            "dead letter attributes": [
                {
                    k: re.sub(r"\d", "9", v) if "PublishTime" in k else v
                    for k, v in r.message.attributes.items()
                }
                for r in lettered
            ],
            "dead letter ids": [r.message.message_id in ids for r in lettered],
        }

    ours, google = compare(scenario)
    assert ours == google


def test_ordering_keys_hold_back_later_messages(compare):
    """On an ordered subscription a key's next message waits while an earlier one is out."""

    def scenario(c: Clients):
        topic, sub = _setup(c, enable_message_ordering=True)
        keys = ["a", "b", "a", "c", "a", ""]
        ids = [
            c.ordered.publish(topic, f"m{i}".encode(), ordering_key=k).result()
            for i, k in enumerate(keys)
        ]
        one_by_one = []
        for _ in range(len(keys)):
            one_by_one += _seen(_pull(c, sub, n=1, immediately=True), ids)
        return {"one at a time": one_by_one}

    ours, google = compare(scenario)
    assert ours == google
