"""The gRPC surface: google.pubsub.v1.Publisher and Subscriber as generic handlers on grpc.aio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.broker import Broker
from emulator.pubsub.errors import PubSubError, invalid
from emulator.pubsub.messages import received
from emulator.pubsub.streaming import StreamingPull

__all__ = ["handlers"]

_log = logging.getLogger("stratus.pubsub")

Handler = Callable[[Any], Message | Awaitable[Message]]

PULL_WAIT = 1.0  # a Pull with nothing due waits this long for messages before answering empty


def _page(items: list[Any], size: int, token: str) -> tuple[list[Any], str]:
    try:
        start = int(token) if token else 0
    except ValueError:
        raise invalid(f"invalid page_token {token!r}") from None
    end = start + size if size > 0 else len(items)
    return items[start:end], str(end) if end < len(items) else ""


def _unary(fn: Handler, request: type[Any], response: type[Any]) -> grpc.RpcMethodHandler:
    async def handle(req: Message, context: grpc.aio.ServicerContext) -> Message:
        try:
            result = fn(req)
            if asyncio.iscoroutine(result):
                result = await result
            return result
        except PubSubError as error:
            await context.abort(error.code, error.message)
        except Exception:
            _log.exception("internal error")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request.pb().FromString,
        response_serializer=response.pb().SerializeToString,
    )


def _empty(fn: Callable[[Any], object]) -> Handler:
    def call(req: Any) -> Message:
        fn(req)
        return empty_pb2.Empty()

    return call


class _Publisher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def list_topics(self, req: Any) -> Message:
        topics, token = _page(self.broker.list_topics(req.project), req.page_size, req.page_token)
        return types.ListTopicsResponse.pb()(topics=topics, next_page_token=token)

    def list_topic_subscriptions(self, req: Any) -> Message:
        names = self.broker.topic_subscriptions(req.topic)
        names, token = _page(names, req.page_size, req.page_token)
        return types.ListTopicSubscriptionsResponse.pb()(subscriptions=names, next_page_token=token)

    def publish(self, req: Any) -> Message:
        ids = self.broker.publish(req.topic, req.messages)
        return types.PublishResponse.pb()(message_ids=ids)

    def methods(self) -> dict[str, grpc.RpcMethodHandler]:
        b, t = self.broker, types
        return {
            "CreateTopic": _unary(b.create_topic, t.Topic, t.Topic),
            "GetTopic": _unary(lambda r: b.topic(r.topic), t.GetTopicRequest, t.Topic),
            "UpdateTopic": _unary(
                lambda r: b.update_topic(r.topic, r.update_mask), t.UpdateTopicRequest, t.Topic
            ),
            "ListTopics": _unary(self.list_topics, t.ListTopicsRequest, t.ListTopicsResponse),
            "ListTopicSubscriptions": _unary(
                self.list_topic_subscriptions,
                t.ListTopicSubscriptionsRequest,
                t.ListTopicSubscriptionsResponse,
            ),
            "DeleteTopic": _unary(
                _empty(lambda r: b.delete_topic(r.topic)), t.DeleteTopicRequest, _Empty
            ),
            "Publish": _unary(self.publish, t.PublishRequest, t.PublishResponse),
        }


class _Empty:
    @staticmethod
    def pb() -> Any:  # protobuf's generated empty_pb2 has no type information here
        return empty_pb2.Empty


class _Subscriber:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def list_subscriptions(self, req: Any) -> Message:
        subs, token = _page(
            self.broker.list_subscriptions(req.project), req.page_size, req.page_token
        )
        return types.ListSubscriptionsResponse.pb()(subscriptions=subs, next_page_token=token)

    async def pull(self, req: Any) -> Message:
        if req.max_messages <= 0:
            raise invalid("max_messages must be positive")
        sub = self.broker.subscription(req.subscription)
        deadline = asyncio.get_running_loop().time() + PULL_WAIT
        while True:
            leases = self.broker.take(sub, req.max_messages, sub.pb.ack_deadline_seconds)
            left = deadline - asyncio.get_running_loop().time()
            if leases or req.return_immediately or left <= 0:
                return types.PullResponse.pb()(received_messages=received(sub, leases))
            await sub.signal.wait(min(left, 0.25))
            sub = self.broker.subscription(req.subscription)

    def methods(self) -> dict[str, grpc.RpcMethodHandler]:
        b, t = self.broker, types
        return {
            "CreateSubscription": _unary(b.create_subscription, t.Subscription, t.Subscription),
            "GetSubscription": _unary(
                lambda r: b.subscription(r.subscription).pb,
                t.GetSubscriptionRequest,
                t.Subscription,
            ),
            "UpdateSubscription": _unary(
                lambda r: b.update_subscription(r.subscription, r.update_mask),
                t.UpdateSubscriptionRequest,
                t.Subscription,
            ),
            "ListSubscriptions": _unary(
                self.list_subscriptions, t.ListSubscriptionsRequest, t.ListSubscriptionsResponse
            ),
            "DeleteSubscription": _unary(
                _empty(lambda r: b.delete_subscription(r.subscription)),
                t.DeleteSubscriptionRequest,
                _Empty,
            ),
            "ModifyPushConfig": _unary(
                _empty(lambda r: b.modify_push_config(r.subscription, r.push_config)),
                t.ModifyPushConfigRequest,
                _Empty,
            ),
            "Pull": _unary(self.pull, t.PullRequest, t.PullResponse),
            "Acknowledge": _unary(
                _empty(lambda r: b.acknowledge(r.subscription, r.ack_ids)),
                t.AcknowledgeRequest,
                _Empty,
            ),
            "ModifyAckDeadline": _unary(
                _empty(
                    lambda r: b.modify_ack_deadline(
                        r.subscription, r.ack_ids, r.ack_deadline_seconds
                    )
                ),
                t.ModifyAckDeadlineRequest,
                _Empty,
            ),
            "StreamingPull": grpc.stream_stream_rpc_method_handler(
                StreamingPull(b).handle,
                request_deserializer=t.StreamingPullRequest.pb().FromString,
                response_serializer=t.StreamingPullResponse.pb().SerializeToString,
            ),
        }


def handlers(broker: Broker) -> tuple[grpc.GenericRpcHandler, ...]:
    return (
        grpc.method_handlers_generic_handler(
            "google.pubsub.v1.Publisher", _Publisher(broker).methods()
        ),
        grpc.method_handlers_generic_handler(
            "google.pubsub.v1.Subscriber", _Subscriber(broker).methods()
        ),
    )
