"""Push subscriptions: CloudEvent POSTs to a real local HTTP server, retries, dead letters."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.emulator.pubsub.conftest import PROJECT, wait_for

pytestmark = pytest.mark.process


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops bursts of new connections
    daemon_threads = True


class Endpoint:
    """A push endpoint that records every request and answers `status(n)` to the n-th (from 1)."""

    def __init__(self, status: Callable[[int], int], protocol: str = "HTTP/1.1") -> None:
        self.status = status
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = protocol  # 1.1: keep-alive, as Cloud Run; 1.0: close each time

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with endpoint.lock:
                    endpoint.requests.append(
                        (
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            json.loads(body),
                        )
                    )
                    code = endpoint.status(len(endpoint.requests))
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_/events/sink?token=t"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint_factory() -> Iterator[Callable[..., Endpoint]]:
    made: list[Endpoint] = []

    def make(status: Callable[[int], int], protocol: str = "HTTP/1.1") -> Endpoint:
        made.append(Endpoint(status, protocol))
        return made[-1]

    yield make
    for endpoint in made:
        endpoint.close()


def _push_subscription(publisher, subscriber, names, url, max_attempts):
    topic = publisher.topic_path(PROJECT, names("topic"))
    dead = publisher.topic_path(PROJECT, names("dead"))
    parked = subscriber.subscription_path(PROJECT, names("parked"))
    for path in (topic, dead):
        publisher.create_topic(name=path)
    subscriber.create_subscription(name=parked, topic=dead)
    sub = subscriber.subscription_path(PROJECT, names("push"))
    subscriber.create_subscription(
        request={
            "name": sub,
            "topic": topic,
            "ack_deadline_seconds": 5,
            "push_config": {"push_endpoint": url},
            "retry_policy": {
                "minimum_backoff": {"nanos": 100_000_000},
                "maximum_backoff": {"nanos": 400_000_000},
            },
            "dead_letter_policy": {
                "dead_letter_topic": dead,
                "max_delivery_attempts": max_attempts,
            },
        }
    )
    return topic, sub, parked


def test_push_is_a_cloudevent_and_retries_after_500(publisher, subscriber, names, endpoint_factory):
    endpoint = endpoint_factory(lambda n: 500 if n == 1 else 200)
    topic, sub, _ = _push_subscription(publisher, subscriber, names, endpoint.url, 5)
    message_id = publisher.publish(topic, b'{"v": 1}', device="d1", ordering_key="").result()

    wait_for(lambda: len(endpoint.requests) >= 2)
    (path, headers, body), (_, _, again) = endpoint.requests[:2]
    assert path == "/_/events/sink?token=t"
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert headers["ce-source"] == f"//pubsub.googleapis.com/{topic}"
    assert headers["ce-id"] == message_id
    assert headers["ce-time"].endswith("Z")
    assert headers["content-type"] == "application/json"
    assert body["subscription"] == sub
    assert body["message"]["messageId"] == message_id
    assert base64.b64decode(body["message"]["data"]) == b'{"v": 1}'
    assert body["message"]["attributes"] == {"device": "d1"}
    assert body["message"]["publishTime"] == headers["ce-time"]
    assert "orderingKey" not in body["message"]
    assert (body["deliveryAttempt"], again["deliveryAttempt"]) == (1, 2)
    assert again["message"]["messageId"] == message_id

    # acknowledged by the 200: no third delivery; nothing left on the subscription
    response = subscriber.pull(
        request={"subscription": sub, "max_messages": 1, "return_immediately": True}
    )
    assert not response.received_messages
    assert len(endpoint.requests) == 2


def test_push_dead_letters_after_max_attempts(publisher, subscriber, names, endpoint_factory):
    endpoint = endpoint_factory(lambda n: 503, "HTTP/1.0")
    topic, _, parked = _push_subscription(publisher, subscriber, names, endpoint.url, 3)
    publisher.publish(topic, b"poison", kind="bad").result()

    def letters():
        return subscriber.pull(
            request={"subscription": parked, "max_messages": 10, "return_immediately": True}
        ).received_messages

    (letter,) = wait_for(letters)
    assert letter.message.data == b"poison"
    assert letter.message.attributes["kind"] == "bad"
    assert [body["deliveryAttempt"] for _, _, body in endpoint.requests] == [1, 2, 3]


def test_push_delivers_many_concurrently(publisher, subscriber, names, endpoint_factory):
    endpoint = endpoint_factory(lambda n: 204)
    topic, _, _ = _push_subscription(publisher, subscriber, names, endpoint.url, 5)
    futures = [publisher.publish(topic, str(i).encode()) for i in range(300)]
    ids = {f.result() for f in futures}
    wait_for(lambda: len(endpoint.requests) >= 300)
    assert {headers["ce-id"] for _, headers, _ in endpoint.requests} == ids


def test_push_to_a_dead_endpoint_retries(publisher, subscriber, names):
    topic, _, parked = _push_subscription(
        publisher, subscriber, names, "http://127.0.0.1:9/nobody-listens", 2
    )
    publisher.publish(topic, b"lost?").result()
    (letter,) = wait_for(
        lambda: (
            subscriber.pull(
                request={"subscription": parked, "max_messages": 1, "return_immediately": True}
            ).received_messages
        )
    )
    assert letter.message.data == b"lost?"
