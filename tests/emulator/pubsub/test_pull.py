"""Publish and pull: fan-out, ids, acks, nacks, lease expiry, retention."""

from __future__ import annotations

import time

import pytest

from tests.emulator.pubsub.conftest import PROJECT, wait_for

pytestmark = pytest.mark.process


def _setup(publisher, subscriber, names, subs=("sub",), **options):
    topic = publisher.topic_path(PROJECT, names("topic"))
    publisher.create_topic(name=topic)
    paths = []
    for sub in subs:
        path = subscriber.subscription_path(PROJECT, names(sub))
        subscriber.create_subscription(request={"name": path, "topic": topic, **options})
        paths.append(path)
    return topic, paths


def _pull(subscriber, path, n=10):
    return list(
        subscriber.pull(request={"subscription": path, "max_messages": n}).received_messages
    )


def test_publish_then_pull_and_ack(publisher, subscriber, names):
    topic, (first, second) = _setup(publisher, subscriber, names, subs=("a", "b"))
    ids = [publisher.publish(topic, f"m{i}".encode(), n=str(i)).result() for i in range(3)]
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert len(set(ids)) == 3

    got = _pull(subscriber, first)
    assert [m.message.data for m in got] == [b"m0", b"m1", b"m2"]
    assert [m.message.message_id for m in got] == ids
    assert got[0].message.attributes["n"] == "0"
    assert got[0].message.publish_time.timestamp() > time.time() - 60
    assert got[0].delivery_attempt == 0  # no dead-letter policy: not reported
    subscriber.acknowledge(subscription=first, ack_ids=[m.ack_id for m in got])
    empty = subscriber.pull(
        request={"subscription": first, "max_messages": 10, "return_immediately": True}
    )
    assert not empty.received_messages
    assert len(_pull(subscriber, second)) == 3  # every subscription gets every message


def test_messages_go_only_to_subscriptions_that_existed(publisher, subscriber, names):
    topic, (early,) = _setup(publisher, subscriber, names)
    publisher.publish(topic, b"before").result()
    late = subscriber.subscription_path(PROJECT, names("late"))
    subscriber.create_subscription(name=late, topic=topic)
    publisher.publish(topic, b"after").result()
    assert [m.message.data for m in _pull(subscriber, early)] == [b"before", b"after"]
    assert [m.message.data for m in _pull(subscriber, late)] == [b"after"]


def test_nack_redelivers_at_once(publisher, subscriber, names):
    topic, (path,) = _setup(publisher, subscriber, names, ack_deadline_seconds=600)
    publisher.publish(topic, b"x").result()
    (first,) = _pull(subscriber, path)
    subscriber.modify_ack_deadline(
        subscription=path, ack_ids=[first.ack_id], ack_deadline_seconds=0
    )
    (again,) = _pull(subscriber, path)
    assert again.message.message_id == first.message.message_id
    assert again.ack_id != first.ack_id


def test_lease_expiry_redelivers_with_next_attempt(publisher, subscriber, names):
    topic, (path,) = _setup(publisher, subscriber, names, ack_deadline_seconds=1)
    dead = publisher.topic_path(PROJECT, names("dead"))
    publisher.create_topic(name=dead)
    subscriber.update_subscription(
        request={
            "subscription": {
                "name": path,
                "dead_letter_policy": {"dead_letter_topic": dead, "max_delivery_attempts": 10},
            },
            "update_mask": {"paths": ["dead_letter_policy"]},
        }
    )
    publisher.publish(topic, b"x").result()
    (first,) = _pull(subscriber, path)
    assert first.delivery_attempt == 1
    second = wait_for(lambda: _pull(subscriber, path))  # not acked: back after ~1 s
    assert second[0].message.message_id == first.message.message_id
    assert second[0].delivery_attempt == 2


def test_modify_ack_deadline_extends_the_lease(publisher, subscriber, names):
    topic, (path,) = _setup(publisher, subscriber, names, ack_deadline_seconds=1)
    publisher.publish(topic, b"x").result()
    (first,) = _pull(subscriber, path)
    subscriber.modify_ack_deadline(
        subscription=path, ack_ids=[first.ack_id], ack_deadline_seconds=600
    )
    time.sleep(1.5)
    response = subscriber.pull(
        request={"subscription": path, "max_messages": 1, "return_immediately": True}
    )
    assert not response.received_messages


def test_dead_letter_after_max_attempts(publisher, subscriber, names):
    dead = publisher.topic_path(PROJECT, names("dead"))
    publisher.create_topic(name=dead)
    parked = subscriber.subscription_path(PROJECT, names("parked"))
    subscriber.create_subscription(name=parked, topic=dead)
    topic, (path,) = _setup(
        publisher,
        subscriber,
        names,
        dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 3},
    )
    publisher.publish(topic, b"poison", kind="bad").result()
    attempts = []
    for _ in range(3):
        (message,) = wait_for(lambda: _pull(subscriber, path))
        attempts.append(message.delivery_attempt)
        subscriber.modify_ack_deadline(
            subscription=path, ack_ids=[message.ack_id], ack_deadline_seconds=0
        )
    assert attempts == [1, 2, 3]
    (letter,) = wait_for(lambda: _pull(subscriber, parked))
    assert letter.message.data == b"poison"
    assert letter.message.attributes["kind"] == "bad"
    assert letter.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "3"
    response = subscriber.pull(
        request={"subscription": path, "max_messages": 1, "return_immediately": True}
    )
    assert not response.received_messages


def test_retention_drops_old_messages(publisher, subscriber, names):
    topic, (path,) = _setup(publisher, subscriber, names, message_retention_duration={"seconds": 1})
    publisher.publish(topic, b"old").result()
    time.sleep(1.3)
    response = subscriber.pull(
        request={"subscription": path, "max_messages": 1, "return_immediately": True}
    )
    assert not response.received_messages
    publisher.publish(topic, b"new").result()
    assert [m.message.data for m in _pull(subscriber, path)] == [b"new"]


def test_ordering_key_redelivers_in_order(emulator, names):
    """After a nack the key's first message comes back before the ones it held back (Google's
    emulator sends the held-back ones first, which the ordering guarantee forbids)."""
    from google.cloud import pubsub_v1

    ordered = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
    )
    subscriber = pubsub_v1.SubscriberClient()
    topic, (path,) = _setup(ordered, subscriber, names, enable_message_ordering=True)
    for i, key in enumerate(["a", "b", "a", "a"]):
        ordered.publish(topic, f"m{i}".encode(), ordering_key=key).result()
    first = _pull(subscriber, path, n=1)
    assert [m.message.data for m in first] == [b"m0"]
    # m2 and m3 wait for m0; b's m1 does not
    assert [m.message.data for m in _pull(subscriber, path)] == [b"m1"]
    subscriber.modify_ack_deadline(
        subscription=path, ack_ids=[first[0].ack_id], ack_deadline_seconds=0
    )
    assert [m.message.data for m in _pull(subscriber, path)] == [b"m0", b"m2", b"m3"]
    ordered.transport.close()
    subscriber.close()
