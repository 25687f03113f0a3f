"""Snapshots where Google's emulator is no reference (it drops labels, has no UpdateSnapshot):
labels kept, UpdateSnapshot, a snapshot that outlives a restart."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.protobuf import field_mask_pb2

from tests.emulator.pubsub.conftest import PROJECT
from tests.support.services import running_service

pytestmark = pytest.mark.process


def test_labels_and_update(publisher, subscriber, names):
    topic = publisher.topic_path(PROJECT, names("t"))
    sub = subscriber.subscription_path(PROJECT, names("s"))
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    name = subscriber.snapshot_path(PROJECT, names("snap"))
    created = subscriber.create_snapshot(
        request={"name": name, "subscription": sub, "labels": {"a": "b"}}
    )
    assert dict(created.labels) == {"a": "b"}
    updated = subscriber.update_snapshot(
        request={
            "snapshot": {"name": name, "labels": {"c": "d"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
        }
    )
    assert dict(updated.labels) == {"c": "d"}
    assert dict(subscriber.get_snapshot(snapshot=name).labels) == {"c": "d"}
    with pytest.raises(gexc.InvalidArgument):
        subscriber.update_snapshot(
            request={
                "snapshot": {"name": name, "topic": topic},
                "update_mask": field_mask_pb2.FieldMask(paths=["topic"]),
            }
        )


def test_snapshot_survives_kill_9(tmp_path, monkeypatch):
    with running_service("pubsub", tmp_path) as service:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        topic = publisher.topic_path(PROJECT, "kept")
        sub = subscriber.subscription_path(PROJECT, "kept")
        snap = subscriber.snapshot_path(PROJECT, "kept")
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        publisher.publish(topic, b"before").result()
        subscriber.create_snapshot(request={"name": snap, "subscription": sub})
        publisher.publish(topic, b"after").result()
        got = subscriber.pull(subscription=sub, max_messages=10).received_messages
        subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in got])
        publisher.transport.close()
        subscriber.close()

        service.kill()
        service.port = 0
        service.start()

        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        subscriber = pubsub_v1.SubscriberClient()
        subscriber.seek(request={"subscription": sub, "snapshot": snap})
        got = subscriber.pull(subscription=sub, max_messages=10).received_messages
        assert [m.message.data for m in got] == [b"before", b"after"]
        subscriber.close()
