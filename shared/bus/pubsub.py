"""Bus adapter on the official google-cloud-pubsub PublisherClient, with batching on."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.errors import Unavailable

__all__ = ["PubSubBus"]

# Attribute names the client's publish() takes as its own keyword arguments.
_RESERVED = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})


class PubSubBus:
    """`Bus` on Pub/Sub (or its emulator, via PUBSUB_EMULATOR_HOST).

    Messages are batched by the client (up to `max_messages` or `max_latency` seconds), so many
    concurrent publishers share few Publish calls. Any failure, at once or in the future, becomes
    shared.errors.Unavailable (a retryable error) chained to the client's exception.
    """

    def __init__(
        self,
        project: str,
        *,
        max_messages: int = 100,
        max_bytes: int = 1_000_000,
        max_latency: float = 0.01,
        client: Any = None,
    ) -> None:
        self.project = project
        self._client = client or pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(
                max_messages=max_messages, max_bytes=max_bytes, max_latency=max_latency
            )
        )
        self._paths: dict[str, str] = {}

    def _path(self, topic: str) -> str:
        path = self._paths.get(topic)
        if path is None:
            path = self._paths[topic] = self._client.topic_path(self.project, topic)
        return path

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Future[str]:
        clash = _RESERVED.intersection(attributes)
        if clash:
            raise ValueError(f"attribute names reserved by the Pub/Sub client: {sorted(clash)}")
        result: Future[str] = Future()
        try:
            inner = self._client.publish(self._path(topic), data, **attributes)
        except Exception as exc:
            raise Unavailable(f"bus publish to {topic!r} failed: {exc}") from exc

        def done(future: Future[str]) -> None:
            try:
                result.set_result(future.result())
            except Exception as exc:
                error = Unavailable(f"bus publish to {topic!r} failed: {exc}")
                error.__cause__ = exc
                result.set_exception(error)

        inner.add_done_callback(done)
        return result

    def close(self) -> None:
        """Send what is batched, wait for it, and close the channel."""
        try:
            self._client.stop()
        finally:
            self._client.transport.close()
