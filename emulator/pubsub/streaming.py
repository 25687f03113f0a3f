"""StreamingPull: one asyncio task per open stream, never a thread.

The first request names the subscription, the stream's ack deadline and its flow control; later
requests are heartbeats, deadline changes or (from some clients) acks. The official Python client
acks and modacks with unary calls; either way the broker tells the stream which ack ids are
settled so flow control (max_outstanding_messages, loosely) can hand out more. Every response
carries the subscription's properties (exactly-once, ordering); on an exactly-once subscription
acks and deadline changes sent on the stream are confirmed in a response of their own
(AcknowledgeConfirmation, ModifyAckDeadlineConfirmation). A malformed ack id ends the stream with
INVALID_ARGUMENT, as Google's emulator does.
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

from emulator.pubsub.broker import Broker
from emulator.pubsub.delivery import Lease, Subscription
from emulator.pubsub.errors import PubSubError, failed_precondition
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
        self.freed = asyncio.Event()  # set when acks make room again in a full stream
        self.acked: list[str] = []  # exactly-once confirmations still to send
        self.ack_failed: list[str] = []
        self.modified: list[str] = []
        self.modify_failed: list[str] = []
        self.error: PubSubError | None = None  # a request that ends the stream

    def confirmations(self, response: Any) -> bool:
        """Move pending confirmations into `response`; whether there were any."""
        if not (self.acked or self.ack_failed or self.modified or self.modify_failed):
            return False
        response.acknowledge_confirmation.ack_ids.extend(self.acked)
        response.acknowledge_confirmation.invalid_ack_ids.extend(self.ack_failed)
        response.modify_ack_deadline_confirmation.ack_ids.extend(self.modified)
        response.modify_ack_deadline_confirmation.invalid_ack_ids.extend(self.modify_failed)
        self.acked, self.ack_failed, self.modified, self.modify_failed = [], [], [], []
        return True

    def settle(self, ack_ids: Sequence[str]) -> None:
        full = len(self.outstanding) >= self.max_outstanding
        for ack_id in ack_ids:
            self.outstanding.pop(ack_id, None)
        if full and len(self.outstanding) < self.max_outstanding:
            self.freed.set()

    async def wait_for_room(self) -> None:
        """Until acks free room (or WAKE passes: leases also end by themselves)."""
        self.freed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAKE):
                await self.freed.wait()

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
            sub = self.broker.puller(first.subscription)
            stream = _Stream(first, sub)
            self._apply(sub, stream, first)
        except PubSubError as error:
            await context.abort(error.code, error.message)
        sub.listeners.add(stream.settle)
        reader = asyncio.create_task(self._read(requests, sub, stream))
        try:
            while not reader.done() or stream.error is not None:
                if self.broker.subs.get(sub.name) is not sub:
                    await context.abort(grpc.StatusCode.NOT_FOUND, f"{sub.name} was deleted")
                if sub.pb.detached:
                    stream.error = failed_precondition(f"{sub.name} was detached")
                if stream.error is not None:
                    await context.abort(stream.error.code, stream.error.message)
                room = stream.room()
                leases = self.broker.take(sub, min(room, BATCH), stream.deadline) if room else []
                response = _Response()
                response.subscription_properties.exactly_once_delivery_enabled = (
                    sub.pb.enable_exactly_once_delivery
                )
                response.subscription_properties.message_ordering_enabled = (
                    sub.pb.enable_message_ordering
                )
                if leases:
                    stream.add(leases)
                    response.received_messages.extend(received(sub, leases))
                if stream.confirmations(response) or leases:
                    yield response
                elif room:
                    await sub.signal.wait(WAKE)
                else:  # a full stream waits for acks, not for new messages
                    await stream.wait_for_room()
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
                _log.info("%s: stream request refused: %s", sub.name, error.message)
                stream.error = error
                sub.signal.notify()
                return

    def _apply(self, sub: Subscription, stream: _Stream, request: Any) -> None:
        if request.stream_ack_deadline_seconds:
            stream.deadline = request.stream_ack_deadline_seconds
        confirm = sub.pb.enable_exactly_once_delivery
        if request.ack_ids:
            failed = self.broker.acknowledge(sub.name, request.ack_ids)
            if confirm:
                stream.acked += [a for a in request.ack_ids if a not in failed]
                stream.ack_failed += failed
        by_deadline: dict[int, list[str]] = {}
        for ack_id, seconds in zip(
            request.modify_deadline_ack_ids, request.modify_deadline_seconds, strict=False
        ):
            by_deadline.setdefault(seconds, []).append(ack_id)
        for seconds, ack_ids in by_deadline.items():
            failed = self.broker.modify_ack_deadline(sub.name, ack_ids, seconds)
            if confirm:
                stream.modified += [a for a in ack_ids if a not in failed]
                stream.modify_failed += failed
        if confirm and (request.ack_ids or by_deadline):
            sub.signal.notify()
