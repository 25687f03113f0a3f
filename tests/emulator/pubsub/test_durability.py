"""What publish() confirmed survives kill -9 of the emulator and is delivered after a restart."""

from __future__ import annotations

import pytest
from google.cloud import pubsub_v1

from tests.emulator.pubsub.conftest import PROJECT, wait_for
from tests.emulator.pubsub.test_push import Endpoint
from tests.support.services import running_service

pytestmark = pytest.mark.process


def _clients(monkeypatch, address):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", address)
    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def test_confirmed_messages_survive_kill_9(tmp_path, monkeypatch):
    with running_service("pubsub", tmp_path) as service:
        publisher, subscriber = _clients(monkeypatch, service.address)
        topic = publisher.topic_path(PROJECT, "durable")
        sub = subscriber.subscription_path(PROJECT, "durable-sub")
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        futures = [publisher.publish(topic, f"m{i}".encode(), i=str(i)) for i in range(200)]
        ids = [f.result(timeout=30) for f in futures]
        publisher.transport.close()
        subscriber.close()

        service.kill()
        assert service.process is not None and service.process.returncode == -9
        service.port = 0
        service.start()

        publisher, subscriber = _clients(monkeypatch, service.address)
        got: dict[str, bytes] = {}
        while len(got) < len(ids):
            response = subscriber.pull(subscription=sub, max_messages=100, timeout=30)
            got.update({m.message.message_id: m.message.data for m in response.received_messages})
            subscriber.acknowledge(
                subscription=sub, ack_ids=[m.ack_id for m in response.received_messages]
            )
        assert sorted(got, key=int) == ids
        assert got[ids[7]] == b"m7"
        # ids keep increasing after a restart
        assert int(publisher.publish(topic, b"later").result(timeout=30)) > int(ids[-1])
        publisher.transport.close()
        subscriber.close()

        service.stop()  # SIGTERM: a clean stop
        assert service.process.returncode == 0


@pytest.mark.e2e
def test_pending_pushes_resume_after_kill_9(tmp_path, monkeypatch):
    failing = True
    endpoint = Endpoint(lambda n: 500 if failing else 200)
    try:
        with running_service("pubsub", tmp_path) as service:
            publisher, subscriber = _clients(monkeypatch, service.address)
            topic = publisher.topic_path(PROJECT, "pushed")
            publisher.create_topic(name=topic)
            subscriber.create_subscription(
                request={
                    "name": subscriber.subscription_path(PROJECT, "pushed-sub"),
                    "topic": topic,
                    "ack_deadline_seconds": 1,
                    "push_config": {"push_endpoint": endpoint.url},
                    "retry_policy": {
                        "minimum_backoff": {"nanos": 100_000_000},
                        "maximum_backoff": {"nanos": 200_000_000},
                    },
                }
            )
            message_id = publisher.publish(topic, b"pending").result(timeout=30)
            publisher.transport.close()
            subscriber.close()
            wait_for(lambda: len(endpoint.requests) >= 2)  # failing and retried

            service.kill()
            failing = False
            service.port = 0
            service.start()

            def delivered():
                with endpoint.lock:
                    return [h for _, h, _ in endpoint.requests[2:] if h["ce-id"] == message_id]

            wait_for(delivered, timeout=30)
    finally:
        endpoint.close()


@pytest.mark.e2e
def test_a_push_cut_off_by_kill_9_is_delivered_again_on_restart(tmp_path, monkeypatch):
    """The push in flight when the emulator dies is owed again at once after the restart, not
    after its ack deadline (10 minutes here, longer than the test waits)."""
    with running_service("pubsub", tmp_path) as service:

        def kill_on_first(n: int) -> int:
            if n == 1:
                service.kill()  # the emulator dies while this push waits for its answer
            return 200

        endpoint = Endpoint(kill_on_first)
        try:
            publisher, subscriber = _clients(monkeypatch, service.address)
            topic = publisher.topic_path(PROJECT, "cut")
            publisher.create_topic(name=topic)
            subscriber.create_subscription(
                request={
                    "name": subscriber.subscription_path(PROJECT, "cut-sub"),
                    "topic": topic,
                    "ack_deadline_seconds": 600,
                    "push_config": {"push_endpoint": endpoint.url},
                }
            )
            message_id = publisher.publish(topic, b"in flight").result(timeout=30)
            publisher.transport.close()
            subscriber.close()
            wait_for(lambda: service.process is not None and service.process.poll() is not None)

            service.port = 0
            service.start()

            def redelivered():
                with endpoint.lock:
                    return [h for _, h, _ in endpoint.requests[1:] if h["ce-id"] == message_id]

            wait_for(redelivered, timeout=30)
        finally:
            endpoint.close()
