"""StreamingPull through subscriber.subscribe(): delivery, acks, nacks, many open streams."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests.emulator.pubsub.conftest import PROJECT, wait_for

pytestmark = pytest.mark.process


def _topic_and_sub(publisher, subscriber, names, **options):
    topic = publisher.topic_path(PROJECT, names("topic"))
    publisher.create_topic(name=topic)
    path = subscriber.subscription_path(PROJECT, names("sub"))
    subscriber.create_subscription(request={"name": path, "topic": topic, **options})
    return topic, path


def test_subscribe_receives_and_acks(publisher, subscriber, names):
    topic, path = _topic_and_sub(publisher, subscriber, names)
    seen: list[bytes] = []
    lock = threading.Lock()

    def callback(message):
        with lock:
            seen.append(message.data)
        message.ack()

    future = subscriber.subscribe(path, callback)
    try:
        for i in range(50):
            publisher.publish(topic, f"m{i}".encode())
        wait_for(lambda: len(seen) >= 50)
        assert sorted(seen) == sorted(f"m{i}".encode() for i in range(50))
        # acked: nothing comes back once the acks have landed
        wait_for(
            lambda: (
                not subscriber.pull(
                    request={"subscription": path, "max_messages": 10, "return_immediately": True}
                ).received_messages
                or None
            )
        )
    finally:
        future.cancel()


def test_subscribe_nack_redelivers(publisher, subscriber, names):
    topic, path = _topic_and_sub(publisher, subscriber, names, ack_deadline_seconds=600)
    counts: Counter[str] = Counter()

    def callback(message):
        counts[message.message_id] += 1
        if counts[message.message_id] == 1:
            message.nack()
        else:
            message.ack()

    future = subscriber.subscribe(path, callback)
    try:
        message_id = publisher.publish(topic, b"again").result()
        wait_for(lambda: counts[message_id] >= 2)
    finally:
        future.cancel()


def test_many_open_streams_do_not_block_unary_calls(publisher, subscriber, names):
    futures = []
    try:
        for _ in range(20):
            _, path = _topic_and_sub(publisher, subscriber, names)
            futures.append(subscriber.subscribe(path, lambda m: m.ack()))
        topic, path = _topic_and_sub(publisher, subscriber, names)
        publisher.publish(topic, b"still served").result(timeout=10)
    finally:
        for future in futures:
            future.cancel()
