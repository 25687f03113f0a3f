"""The official Pub/Sub clients pointed at one emulator (ours or Google's), and a raw
StreamingPull for what the high-level subscriber hides (confirmations, how a stream ends)."""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud import pubsub_v1
from google.pubsub_v1 import SchemaServiceClient, types
from google.pubsub_v1.services.schema_service.transports import SchemaServiceGrpcTransport

__all__ = ["Clients", "clients", "raw_stream"]


@dataclass
class Clients:
    """The official clients pointed at one emulator, and a project no other test uses."""

    label: str
    address: str
    project: str
    publisher: pubsub_v1.PublisherClient
    ordered: pubsub_v1.PublisherClient  # enable_message_ordering
    subscriber: pubsub_v1.SubscriberClient
    schemas: SchemaServiceClient
    channel: grpc.Channel

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def sub(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"

    def schema(self, name: str) -> str:
        return f"projects/{self.project}/schemas/{name}"

    @property
    def parent(self) -> str:
        return f"projects/{self.project}"


@contextmanager
def clients(label: str, address: str) -> Iterator[Clients]:
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = address  # the clients read it when built
    try:
        publisher = pubsub_v1.PublisherClient()
        ordered = pubsub_v1.PublisherClient(
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
        )
        subscriber = pubsub_v1.SubscriberClient()
    finally:
        if previous is None:
            del os.environ["PUBSUB_EMULATOR_HOST"]
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
    channel = grpc.insecure_channel(address)
    schemas = SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))
    project = f"diff-{uuid.uuid4().hex[:10]}"
    try:
        yield Clients(label, address, project, publisher, ordered, subscriber, schemas, channel)
    finally:
        publisher.transport.close()
        ordered.transport.close()
        subscriber.close()
        channel.close()


def raw_stream(c: Clients, sub: str) -> tuple[queue.Queue[Any], queue.Queue[Any]]:
    """A raw StreamingPull: (requests queue, responses queue); None on the queue ends it."""
    requests: queue.Queue[Any] = queue.Queue()
    responses: queue.Queue[Any] = queue.Queue()
    call = c.channel.stream_stream(
        "/google.pubsub.v1.Subscriber/StreamingPull",
        request_serializer=types.StreamingPullRequest.serialize,
        response_deserializer=types.StreamingPullResponse.deserialize,
    )

    def send() -> Iterator[Any]:
        yield types.StreamingPullRequest(subscription=sub, stream_ack_deadline_seconds=30)
        while (item := requests.get()) is not None:
            yield item

    def read() -> None:
        try:
            for response in call(send()):
                responses.put(response)
        except Exception as error:  # the stream's end, as the test wants to see it
            responses.put(error)

    threading.Thread(target=read, daemon=True).start()
    return requests, responses
