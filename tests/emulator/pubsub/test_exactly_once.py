"""Exactly-once delivery where ours follows the service's documents rather than Google's emulator
(which still accepts an ack id whose deadline passed, until the message is delivered again): an
ack id fails once its deadline has passed, and the official client reports it as
AcknowledgeError(INVALID_ACK_ID). Stream confirmations name the acknowledged ids too."""

from __future__ import annotations

import queue
import time

import pytest
from google.api_core import exceptions as gexc
from google.cloud.pubsub_v1.subscriber.exceptions import AcknowledgeError, AcknowledgeStatus
from google.pubsub_v1 import types

from tests.emulator.pubsub.conftest import PROJECT
from tests.support.pubsub import clients, raw_stream
from tests.support.waiting import until

pytestmark = pytest.mark.process


def _setup(publisher, subscriber, names, **options):
    topic = publisher.topic_path(PROJECT, names("once"))
    sub = subscriber.subscription_path(PROJECT, names("once"))
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        request={"name": sub, "topic": topic, "enable_exactly_once_delivery": True, **options}
    )
    return topic, sub


def test_ack_after_the_deadline_fails(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names, ack_deadline_seconds=1)
    publisher.publish(topic, b"slow").result()
    (first,) = subscriber.pull(subscription=sub, max_messages=1).received_messages
    # the lease ends after one second: wait for the redelivery it allows, then ack the old id
    redelivered = []
    until(
        lambda: bool(
            redelivered.extend(
                subscriber.pull(
                    request={"subscription": sub, "max_messages": 1, "return_immediately": True}
                ).received_messages
            )
            or redelivered
        )
    )
    with pytest.raises(gexc.InvalidArgument):
        subscriber.acknowledge(subscription=sub, ack_ids=[first.ack_id])
    assert redelivered[0].message.message_id == first.message.message_id
    assert redelivered[0].ack_id != first.ack_id
    subscriber.acknowledge(subscription=sub, ack_ids=[redelivered[0].ack_id])


def test_expired_ack_id_fails_before_any_redelivery(publisher, subscriber, names):
    """The service: an ack id is valid until its deadline; no second pull needed to expire it."""
    topic, sub = _setup(publisher, subscriber, names, ack_deadline_seconds=10)
    publisher.publish(topic, b"m").result()
    (got,) = subscriber.pull(subscription=sub, max_messages=1).received_messages
    subscriber.modify_ack_deadline(subscription=sub, ack_ids=[got.ack_id], ack_deadline_seconds=1)
    ends = time.time() + 1.0  # the condition is the deadline itself
    assert until(lambda: time.time() > ends + 0.1, timeout=10)
    with pytest.raises(gexc.InvalidArgument):
        subscriber.acknowledge(subscription=sub, ack_ids=[got.ack_id])


def test_official_client_reports_invalid_ack_id(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    publisher.publish(topic, b"m").result()
    outcomes: queue.Queue = queue.Queue()

    def callback(message):
        message.ack_with_response().result(timeout=30)
        # a second ack of the same delivery is no longer valid
        try:
            message.ack_with_response().result(timeout=30)
            outcomes.put("succeeded")
        except AcknowledgeError as error:
            outcomes.put(error.error_code)

    future = subscriber.subscribe(sub, callback)
    try:
        assert outcomes.get(timeout=30) == AcknowledgeStatus.INVALID_ACK_ID
    finally:
        future.cancel()
        future.result(timeout=30)


def test_stream_confirms_acks_and_deadline_changes(publisher, subscriber, names, emulator):
    topic, sub = _setup(publisher, subscriber, names)
    for i in range(2):
        publisher.publish(topic, f"m{i}".encode()).result()
    with clients("ours", emulator.address) as c:
        requests, responses = raw_stream(c, sub)
        first = responses.get(timeout=30)
        assert first.subscription_properties.exactly_once_delivery_enabled
        a, b = (r.ack_id for r in first.received_messages)
        requests.put(types.StreamingPullRequest(ack_ids=[a]))
        acked = responses.get(timeout=30)
        assert list(acked.acknowledge_confirmation.ack_ids) == [a]
        requests.put(types.StreamingPullRequest(ack_ids=[a]))
        again = responses.get(timeout=30)
        assert list(again.acknowledge_confirmation.invalid_ack_ids) == [a]
        requests.put(
            types.StreamingPullRequest(modify_deadline_ack_ids=[b], modify_deadline_seconds=[60])
        )
        modified = responses.get(timeout=30)
        assert list(modified.modify_ack_deadline_confirmation.ack_ids) == [b]
        requests.put(None)
