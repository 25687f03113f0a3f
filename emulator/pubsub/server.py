"""The gRPC surface: google.pubsub.v1.Publisher, Subscriber and SchemaService as generic handlers
on grpc.aio."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.broker import Broker
from emulator.pubsub.errors import ack_failures, invalid
from emulator.pubsub.messages import received
from emulator.pubsub.names import require_project
from emulator.pubsub.rpc import Empty, empty, page, unary
from emulator.pubsub.schema_service import schema_methods
from emulator.pubsub.streaming import StreamingPull

__all__ = ["handlers"]


PULL_WAIT = 1.0  # a Pull with nothing due waits this long for messages before answering empty


def _all_valid(failed: list[str]) -> None:
    """Exactly-once acks and deadline changes report the ack ids that were no longer valid."""
    if failed:
        raise ack_failures(failed)


class _Publisher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def list_topics(self, req: Any) -> Message:
        topics, token = page(self.broker.list_topics(req.project), req.page_size, req.page_token)
        return types.ListTopicsResponse.pb()(topics=topics, next_page_token=token)

    def list_topic_subscriptions(self, req: Any) -> Message:
        names = self.broker.topic_subscriptions(req.topic)
        names, token = page(names, req.page_size, req.page_token)
        return types.ListTopicSubscriptionsResponse.pb()(subscriptions=names, next_page_token=token)

    def publish(self, req: Any) -> Message:
        ids = self.broker.publish(req.topic, req.messages)
        return types.PublishResponse.pb()(message_ids=ids)

    def list_topic_snapshots(self, req: Any) -> Message:
        self.broker.topic(req.topic)
        names = self.broker.snapshots.of_topic(req.topic)
        names, token = page(names, req.page_size, req.page_token)
        return types.ListTopicSnapshotsResponse.pb()(snapshots=names, next_page_token=token)

    def detach_subscription(self, req: Any) -> Message:
        self.broker.detach_subscription(req.subscription)
        return types.DetachSubscriptionResponse.pb()()

    def methods(self) -> dict[str, grpc.RpcMethodHandler]:
        b, t = self.broker, types
        return {
            "CreateTopic": unary(b.create_topic, t.Topic, t.Topic),
            "GetTopic": unary(lambda r: b.topic(r.topic), t.GetTopicRequest, t.Topic),
            "UpdateTopic": unary(
                lambda r: b.update_topic(r.topic, r.update_mask), t.UpdateTopicRequest, t.Topic
            ),
            "ListTopics": unary(self.list_topics, t.ListTopicsRequest, t.ListTopicsResponse),
            "ListTopicSubscriptions": unary(
                self.list_topic_subscriptions,
                t.ListTopicSubscriptionsRequest,
                t.ListTopicSubscriptionsResponse,
            ),
            "DeleteTopic": unary(
                empty(lambda r: b.delete_topic(r.topic)), t.DeleteTopicRequest, Empty
            ),
            "Publish": unary(self.publish, t.PublishRequest, t.PublishResponse),
            "ListTopicSnapshots": unary(
                self.list_topic_snapshots,
                t.ListTopicSnapshotsRequest,
                t.ListTopicSnapshotsResponse,
            ),
            "DetachSubscription": unary(
                self.detach_subscription,
                t.DetachSubscriptionRequest,
                t.DetachSubscriptionResponse,
            ),
        }


class _Subscriber:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def list_subscriptions(self, req: Any) -> Message:
        subs, token = page(
            self.broker.list_subscriptions(req.project), req.page_size, req.page_token
        )
        return types.ListSubscriptionsResponse.pb()(subscriptions=subs, next_page_token=token)

    async def pull(self, req: Any) -> Message:
        if req.max_messages <= 0:
            raise invalid("max_messages must be positive")
        sub = self.broker.puller(req.subscription)
        deadline = asyncio.get_running_loop().time() + PULL_WAIT
        while True:
            leases = self.broker.take(sub, req.max_messages, sub.pb.ack_deadline_seconds)
            left = deadline - asyncio.get_running_loop().time()
            if leases or req.return_immediately or left <= 0:
                return types.PullResponse.pb()(received_messages=received(sub, leases))
            await sub.signal.wait(min(left, 0.25))
            sub = self.broker.puller(req.subscription)

    def snapshot_methods(self) -> dict[str, grpc.RpcMethodHandler]:
        b, t = self.broker, types

        def list_snapshots(req: Any) -> Message:
            found = b.snapshots.list_snapshots(require_project(req.project))
            found, token = page(found, req.page_size, req.page_token)
            return t.ListSnapshotsResponse.pb()(snapshots=found, next_page_token=token)

        def seek(req: Any) -> Message:
            target = req.WhichOneof("target")
            at = req.time.ToNanoseconds() if target == "time" else None
            b.seek(req.subscription, at, req.snapshot if target == "snapshot" else None)
            return t.SeekResponse.pb()()

        return {
            "CreateSnapshot": unary(
                lambda r: b.create_snapshot(r.name, r.subscription, dict(r.labels)),
                t.CreateSnapshotRequest,
                t.Snapshot,
            ),
            "GetSnapshot": unary(
                lambda r: b.snapshots.get(r.snapshot).pb, t.GetSnapshotRequest, t.Snapshot
            ),
            "ListSnapshots": unary(list_snapshots, t.ListSnapshotsRequest, t.ListSnapshotsResponse),
            "UpdateSnapshot": unary(
                lambda r: b.snapshots.update(r.snapshot, r.update_mask),
                t.UpdateSnapshotRequest,
                t.Snapshot,
            ),
            "DeleteSnapshot": unary(
                empty(lambda r: b.snapshots.delete(r.snapshot)), t.DeleteSnapshotRequest, Empty
            ),
            "Seek": unary(seek, t.SeekRequest, t.SeekResponse),
        }

    def methods(self) -> dict[str, grpc.RpcMethodHandler]:
        b, t = self.broker, types
        return {
            "CreateSubscription": unary(b.create_subscription, t.Subscription, t.Subscription),
            "GetSubscription": unary(
                lambda r: b.subscription(r.subscription).pb,
                t.GetSubscriptionRequest,
                t.Subscription,
            ),
            "UpdateSubscription": unary(
                lambda r: b.update_subscription(r.subscription, r.update_mask),
                t.UpdateSubscriptionRequest,
                t.Subscription,
            ),
            "ListSubscriptions": unary(
                self.list_subscriptions, t.ListSubscriptionsRequest, t.ListSubscriptionsResponse
            ),
            "DeleteSubscription": unary(
                empty(lambda r: b.delete_subscription(r.subscription)),
                t.DeleteSubscriptionRequest,
                Empty,
            ),
            "ModifyPushConfig": unary(
                empty(lambda r: b.modify_push_config(r.subscription, r.push_config)),
                t.ModifyPushConfigRequest,
                Empty,
            ),
            "Pull": unary(self.pull, t.PullRequest, t.PullResponse),
            **self.snapshot_methods(),
            "Acknowledge": unary(
                empty(lambda r: _all_valid(b.acknowledge(r.subscription, r.ack_ids))),
                t.AcknowledgeRequest,
                Empty,
            ),
            "ModifyAckDeadline": unary(
                empty(
                    lambda r: _all_valid(
                        b.modify_ack_deadline(r.subscription, r.ack_ids, r.ack_deadline_seconds)
                    )
                ),
                t.ModifyAckDeadlineRequest,
                Empty,
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
        grpc.method_handlers_generic_handler(
            "google.pubsub.v1.SchemaService", schema_methods(broker)
        ),
    )
