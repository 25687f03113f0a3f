"""StreamingPull: one asyncio task per open stream, never a thread.

The first request names the subscription, the stream's ack deadline and its flow control; later
requests are heartbeats, deadline changes or (from some clients) acks. The official Python client
acks and modacks with unary calls; either way the broker tells the stream which ack ids are
settled so flow control (max_outstanding_messages, loosely) can hand out more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.broker import Broker, Lease, Subscription
from emulator.pubsub.errors import PubSubError
from emulator.pubsub.messages import received

__all__ = ["StreamingPull"]

_log = logging.getLogger("stratus.pubsub")
_Response = types.StreamingPullResponse.pb()

WAKE = 0.5  # seconds: the longest a stream sleeps before looking for cancellation and expiry
BATCH = 500


class _Stream:
    def __init__(self, first: Any, sub: Subscription) -> None:
        self.deadline = first.stream_ack_deadline_seconds or sub.pb.ack_deadline_seconds
        self.max_outstanding = first.max_outstanding_messages or 1000
        self.outstanding: dict[str, float] = {}  # ack id -> when our lease ends

    def settle(self, ack_ids: Sequence[str]) -> None:
        for ack_id in ack_ids:
            self.outstanding.pop(ack_id, None)

    def room(self) -> int:
        now = time.time()
        for ack_id, end in list(self.outstanding.items()):
            if end <= now:
                del self.outstanding[ack_id]
        return self.max_outstanding - len(self.outstanding)

    def add(self, leases: Sequence[Lease]) -> None:
        end = time.time() + self.deadline
        for lease in leases:
            self.outstanding[lease.ack_id] = end


class StreamingPull:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def handle(
        self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Message]:
        try:
            first = await anext(aiter(requests))
        except StopAsyncIteration:
            return
        try:
            sub = self.broker.subscription(first.subscription)
            stream = _Stream(first, sub)
            self._apply(sub, stream, first)
        except PubSubError as error:
            await context.abort(error.code, error.message)
        sub.listeners.add(stream.settle)
        reader = asyncio.create_task(self._read(requests, sub, stream))
        try:
            while not reader.done():
                if self.broker.subs.get(sub.name) is not sub:
                    await context.abort(grpc.StatusCode.NOT_FOUND, f"{sub.name} was deleted")
                room = stream.room()
                leases = self.broker.take(sub, min(room, BATCH), stream.deadline) if room else []
                if leases:
                    stream.add(leases)
                    yield _Response(received_messages=received(sub, leases))
                else:
                    await sub.signal.wait(WAKE)
        finally:
            sub.listeners.discard(stream.settle)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _read(self, requests: AsyncIterator[Any], sub: Subscription, stream: _Stream) -> None:
        async for request in requests:
            try:
                self._apply(sub, stream, request)
            except PubSubError as error:
                _log.warning("%s: stream request refused: %s", sub.name, error.message)

    def _apply(self, sub: Subscription, stream: _Stream, request: Any) -> None:
        if request.stream_ack_deadline_seconds:
            stream.deadline = request.stream_ack_deadline_seconds
        if request.ack_ids:
            self.broker.acknowledge(sub.name, request.ack_ids)
        by_deadline: dict[int, list[str]] = {}
        for ack_id, seconds in zip(
            request.modify_deadline_ack_ids, request.modify_deadline_seconds, strict=False
        ):
            by_deadline.setdefault(seconds, []).append(ack_id)
        for seconds, ack_ids in by_deadline.items():
            self.broker.modify_ack_deadline(sub.name, ack_ids, seconds)
