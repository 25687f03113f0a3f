"""Topic and subscription CRUD through the official client, with Pub/Sub's error codes."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.protobuf import field_mask_pb2

from tests.emulator.pubsub.conftest import PROJECT

pytestmark = pytest.mark.process


def test_topic_crud(publisher, subscriber, names):
    path = publisher.topic_path(PROJECT, names("topic"))
    created = publisher.create_topic(request={"name": path, "labels": {"team": "iot"}})
    assert created.name == path
    assert publisher.get_topic(topic=path).labels["team"] == "iot"
    with pytest.raises(gexc.AlreadyExists):
        publisher.create_topic(name=path)

    updated = publisher.update_topic(
        request={
            "topic": {"name": path, "labels": {"team": "ops"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
        }
    )
    assert updated.labels["team"] == "ops"
    listed = [t.name for t in publisher.list_topics(project=f"projects/{PROJECT}")]
    assert path in listed

    sub = subscriber.subscription_path(PROJECT, names("sub"))
    subscriber.create_subscription(name=sub, topic=path)
    assert list(publisher.list_topic_subscriptions(topic=path)) == [sub]

    publisher.delete_topic(topic=path)
    with pytest.raises(gexc.NotFound):
        publisher.get_topic(topic=path)
    with pytest.raises(gexc.NotFound):
        publisher.delete_topic(topic=path)
    assert subscriber.get_subscription(subscription=sub).topic == "_deleted-topic_"


def test_topic_errors(publisher, names):
    with pytest.raises(gexc.InvalidArgument):
        publisher.create_topic(name="projects/p/topics/x")  # too short an id
    with pytest.raises(gexc.InvalidArgument):
        publisher.create_topic(name="topics/nothing")
    missing = publisher.topic_path(PROJECT, names("missing"))
    with pytest.raises(gexc.NotFound):
        publisher.get_topic(topic=missing)
    with pytest.raises(gexc.NotFound):
        publisher.api.publish(topic=missing, messages=[{"data": b"x"}])
    path = publisher.topic_path(PROJECT, names("topic"))
    publisher.create_topic(name=path)
    with pytest.raises(gexc.InvalidArgument):
        publisher.api.publish(topic=path, messages=[{"data": b""}])
    with pytest.raises(gexc.InvalidArgument):
        publisher.update_topic(
            request={"topic": {"name": path}, "update_mask": field_mask_pb2.FieldMask(paths=[])}
        )


def test_subscription_crud(publisher, subscriber, names):
    topic = publisher.topic_path(PROJECT, names("topic"))
    publisher.create_topic(name=topic)
    path = subscriber.subscription_path(PROJECT, names("sub"))
    created = subscriber.create_subscription(name=path, topic=topic)
    assert created.ack_deadline_seconds == 10
    assert created.message_retention_duration.total_seconds() == 7 * 24 * 3600
    with pytest.raises(gexc.AlreadyExists):
        subscriber.create_subscription(name=path, topic=topic)

    updated = subscriber.update_subscription(
        request={
            "subscription": {"name": path, "ack_deadline_seconds": 30, "labels": {"a": "b"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["ack_deadline_seconds"]),
        }
    )
    assert updated.ack_deadline_seconds == 30
    assert not updated.labels  # not in the mask: untouched

    subscriber.modify_push_config(
        request={"subscription": path, "push_config": {"push_endpoint": "http://127.0.0.1:9/x"}}
    )
    assert subscriber.get_subscription(subscription=path).push_config.push_endpoint.endswith("/x")
    subscriber.modify_push_config(request={"subscription": path, "push_config": {}})

    listed = [s.name for s in subscriber.list_subscriptions(project=f"projects/{PROJECT}")]
    assert path in listed
    subscriber.delete_subscription(subscription=path)
    with pytest.raises(gexc.NotFound):
        subscriber.get_subscription(subscription=path)
    with pytest.raises(gexc.NotFound):
        subscriber.delete_subscription(subscription=path)


def test_subscription_errors(publisher, subscriber, names):
    topic = publisher.topic_path(PROJECT, names("topic"))
    path = subscriber.subscription_path(PROJECT, names("sub"))
    with pytest.raises(gexc.NotFound):
        subscriber.create_subscription(name=path, topic=topic)
    publisher.create_topic(name=topic)
    with pytest.raises(gexc.InvalidArgument):
        subscriber.create_subscription(name=path, topic=topic, ack_deadline_seconds=601)
    with pytest.raises(gexc.InvalidArgument):
        subscriber.create_subscription(
            name=path, topic=topic, push_config={"push_endpoint": "ftp://x"}
        )
    subscriber.create_subscription(name=path, topic=topic)
    with pytest.raises(gexc.InvalidArgument):
        subscriber.update_subscription(
            request={
                "subscription": {"name": path, "topic": topic},
                "update_mask": field_mask_pb2.FieldMask(paths=["topic"]),
            }
        )
    with pytest.raises(gexc.InvalidArgument):
        subscriber.pull(subscription=path, max_messages=0)
    with pytest.raises(gexc.InvalidArgument):
        subscriber.acknowledge(subscription=path, ack_ids=["not-an-ack-id"])
    with pytest.raises(gexc.NotFound):
        subscriber.pull(subscription=path + "-nope", max_messages=1)
