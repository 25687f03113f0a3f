"""DetachSubscription as the service documents it (Google's emulator answers UNIMPLEMENTED): the
backlog is dropped, pulls fail with FAILED_PRECONDITION, pushes stop, nothing new arrives."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from tests.emulator.pubsub.conftest import PROJECT

pytestmark = pytest.mark.process


def test_detach_subscription(publisher, subscriber, names):
    topic = publisher.topic_path(PROJECT, names("t"))
    sub = subscriber.subscription_path(PROJECT, names("s"))
    other = subscriber.subscription_path(PROJECT, names("s"))
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    subscriber.create_subscription(name=other, topic=topic)
    publisher.publish(topic, b"before").result()

    publisher.detach_subscription(request={"subscription": sub})

    assert subscriber.get_subscription(subscription=sub).detached
    assert list(publisher.list_topic_subscriptions(topic=topic)) == [other]
    with pytest.raises(gexc.FailedPrecondition):
        subscriber.pull(subscription=sub, max_messages=10)
    publisher.publish(topic, b"after").result()
    got = subscriber.pull(subscription=other, max_messages=10).received_messages
    assert [m.message.data for m in got] == [b"before", b"after"]
    with pytest.raises(gexc.NotFound):
        publisher.detach_subscription(request={"subscription": f"{sub}-missing"})
    subscriber.delete_subscription(subscription=sub)  # a detached subscription can be deleted


def test_detached_stream_ends(publisher, subscriber, names):
    topic = publisher.topic_path(PROJECT, names("t"))
    sub = subscriber.subscription_path(PROJECT, names("s"))
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    future = subscriber.subscribe(sub, lambda message: message.ack())
    publisher.detach_subscription(request={"subscription": sub})
    # the client retries FAILED_PRECONDITION? no: it is not retryable, the future ends
    with pytest.raises(gexc.FailedPrecondition):
        future.result(timeout=30)
