"""Exactly-once delivery on both emulators: which ack ids fail, how the failure is reported (the
ErrorInfo the official client turns into AcknowledgeError), stream confirmations, and that an
acknowledged message never comes back."""

from __future__ import annotations

import queue

import pytest
from google.api_core import exceptions as gexc
from google.cloud.pubsub_v1.subscriber.exceptions import AcknowledgeStatus
from google.pubsub_v1 import types
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.differential.pubsub.conftest import Clients
from tests.support.pubsub import raw_stream

pytestmark = pytest.mark.process


def _setup(c: Clients) -> tuple[str, str]:
    topic, sub = c.topic("once"), c.sub("once")
    c.publisher.create_topic(name=topic)
    c.subscriber.create_subscription(
        request={"name": sub, "topic": topic, "enable_exactly_once_delivery": True}
    )
    return topic, sub


def _failure(call, labels: dict[str, str]):
    """`ok`, or the status and, per ack id label, the ErrorInfo reason Pub/Sub attached."""
    try:
        call()
    except gexc.GoogleAPICallError as error:
        details = {}
        status = rpc_status.from_call(error.response) if error.response else None
        for detail in status.details if status else ():
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            details = {labels.get(k, k): v for k, v in info.metadata.items()}
            details["reason"] = info.reason
        return [error.grpc_status_code.name, details]
    return "ok"


def test_ack_ids_that_are_no_longer_valid(compare):
    def scenario(c: Clients):
        topic, sub = _setup(c)
        for i in range(3):
            c.publisher.publish(topic, f"m{i}".encode()).result()
        got = c.subscriber.pull(request={"subscription": sub, "max_messages": 10}).received_messages
        first, second, third = (r.ack_id for r in got)
        labels = {first: "first", second: "second", third: "third"}
        s = c.subscriber
        answer = {"pulled": [r.message.data for r in got]}
        answer["ack"] = _failure(lambda: s.acknowledge(subscription=sub, ack_ids=[first]), labels)
        answer["ack again"] = _failure(
            lambda: s.acknowledge(subscription=sub, ack_ids=[first]), labels
        )
        answer["modack acked"] = _failure(
            lambda: s.modify_ack_deadline(
                subscription=sub, ack_ids=[first], ack_deadline_seconds=30
            ),
            labels,
        )
        answer["nack"] = _failure(
            lambda: s.modify_ack_deadline(
                subscription=sub, ack_ids=[second], ack_deadline_seconds=0
            ),
            labels,
        )
        answer["ack nacked"] = _failure(
            lambda: s.acknowledge(subscription=sub, ack_ids=[second]), labels
        )
        again = s.pull(request={"subscription": sub, "max_messages": 10}).received_messages
        answer["redelivered"] = [r.message.data for r in again]
        labels[again[0].ack_id] = "redelivered"
        answer["stale and fresh together"] = _failure(
            lambda: s.acknowledge(subscription=sub, ack_ids=[second, again[0].ack_id]), labels
        )
        answer["fresh one was acked"] = _failure(
            lambda: s.acknowledge(subscription=sub, ack_ids=[again[0].ack_id]), labels
        )
        answer["malformed"] = _failure(
            lambda: s.acknowledge(subscription=sub, ack_ids=["garbage"]), labels
        )
        answer["extend current"] = _failure(
            lambda: s.modify_ack_deadline(
                subscription=sub, ack_ids=[third], ack_deadline_seconds=60
            ),
            labels,
        )
        answer["ack current"] = _failure(
            lambda: s.acknowledge(subscription=sub, ack_ids=[third]), labels
        )
        answer["nothing left"] = list(
            s.pull(
                request={"subscription": sub, "max_messages": 10, "return_immediately": True}
            ).received_messages
        )
        return answer

    ours, google = compare(scenario)
    assert ours == google
    assert ours["ack again"] == [
        "INVALID_ARGUMENT",
        {"first": "PERMANENT_FAILURE_INVALID_ACK_ID", "reason": "EXACTLY_ONCE_ACKID_FAILURE"},
    ]


def test_streaming_confirmations(compare):
    """Acks on the stream: the properties on every response, the invalid ack ids confirmed (Google's
    emulator sends them with the next messages; a trigger message makes sure one comes)."""

    def scenario(c: Clients):
        topic, sub = _setup(c)
        for i in range(2):
            c.publisher.publish(topic, f"m{i}".encode()).result()
        requests, responses = raw_stream(c, sub)
        first = responses.get(timeout=30)
        ids = [r.ack_id for r in first.received_messages]
        labels = dict(zip(ids, ("m0", "m1"), strict=True))
        requests.put(types.StreamingPullRequest(ack_ids=ids[:1]))
        requests.put(types.StreamingPullRequest(ack_ids=ids[:1]))
        c.publisher.publish(topic, b"trigger").result()
        invalid, data = [], []
        while b"trigger" not in data:
            response = responses.get(timeout=30)
            invalid += [labels[a] for a in response.acknowledge_confirmation.invalid_ack_ids]
            data += [r.message.data for r in response.received_messages]
        requests.put(types.StreamingPullRequest(ack_ids=["garbage"]))
        while not isinstance(end := responses.get(timeout=30), Exception):
            pass
        requests.put(None)
        return {
            "first": [r.message.data for r in first.received_messages],
            "properties": type(first.subscription_properties).to_dict(
                first.subscription_properties
            ),
            "invalid": invalid,
            "malformed ends the stream": end.code().name,
        }

    ours, google = compare(scenario)
    assert ours == google
    assert ours["invalid"] == ["m0"]


def test_subscribe_with_ack_responses(compare):
    """The official client's exactly-once path: ack_with_response() succeeds once per message,
    and an acknowledged message is not delivered again."""

    def scenario(c: Clients):
        topic, sub = _setup(c)
        for i in range(5):
            c.publisher.publish(topic, f"m{i}".encode()).result()
        results: queue.Queue = queue.Queue()

        def callback(message):
            results.put((message.data, message.ack_with_response().result(timeout=30)))

        future = c.subscriber.subscribe(sub, callback)
        try:
            acked = sorted(results.get(timeout=30) for _ in range(5))
        finally:
            future.cancel()
            future.result(timeout=30)
        leftover = c.subscriber.pull(
            request={"subscription": sub, "max_messages": 10, "return_immediately": True}
        ).received_messages
        return {
            "acked": [(data, status == AcknowledgeStatus.SUCCESS) for data, status in acked],
            "leftover": list(leftover),
        }

    ours, google = compare(scenario)
    assert ours == google
