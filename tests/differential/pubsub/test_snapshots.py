"""Snapshots and Seek on both emulators: what a subscription receives after seeking to a
snapshot or a time, the snapshot resources and the status codes. (Google's emulator drops a
snapshot's labels and has no UpdateSnapshot; tests/emulator/pubsub/test_snapshots.py checks
ours against the service's documents there.)"""

from __future__ import annotations

import datetime
import time

import pytest

from tests.differential.pubsub.conftest import Clients, status

pytestmark = pytest.mark.process


def test_seek_to_a_snapshot_and_to_times(compare):
    def scenario(c: Clients):
        topic, other = c.topic("events"), c.topic("other")
        sub, elsewhere, snap = c.sub("events"), c.sub("other"), f"{c.parent}/snapshots/before"
        for t, s in ((topic, sub), (other, elsewhere)):
            c.publisher.create_topic(name=t)
            c.subscriber.create_subscription(name=s, topic=t)
        s = c.subscriber

        def pull() -> list[bytes]:
            got = s.pull(
                request={"subscription": sub, "max_messages": 10, "return_immediately": True}
            ).received_messages
            if got:
                s.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in got])
            return [m.message.data for m in got]

        for i in range(3):
            c.publisher.publish(topic, f"m{i}".encode()).result()
        first = s.pull(request={"subscription": sub, "max_messages": 10}).received_messages
        s.acknowledge(subscription=sub, ack_ids=[first[0].ack_id])
        created = s.create_snapshot(request={"name": snap, "subscription": sub})
        answer = {
            "created": {"name": created.name, "topic": created.topic},
            "expires in about 7 days": abs(
                created.expire_time.timestamp() - time.time() - 7 * 86400
            )
            < 3600,
            "again": status(lambda: s.create_snapshot(request={"name": snap, "subscription": sub})),
            "bad name": status(
                lambda: s.create_snapshot(
                    request={"name": f"{c.parent}/snapshots/ab", "subscription": sub}
                )
            ),
            "missing subscription": status(
                lambda: s.create_snapshot(
                    request={"name": f"{snap}-2", "subscription": c.sub("missing")}
                )
            ),
        }
        c.publisher.publish(topic, b"m3").result()
        s.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in first[1:]])
        answer["after acks"] = pull()
        s.seek(request={"subscription": sub, "snapshot": snap})
        answer["after seeking the snapshot"] = pull()
        answer["get"] = s.get_snapshot(snapshot=snap).name
        answer["list"] = [x.name for x in s.list_snapshots(project=c.parent)]
        answer["of topic"] = list(c.publisher.list_topic_snapshots(topic=topic))
        answer["other topic"] = status(
            lambda: s.seek(request={"subscription": elsewhere, "snapshot": snap})
        )
        answer["missing snapshot"] = status(
            lambda: s.seek(request={"subscription": sub, "snapshot": f"{snap}-missing"})
        )
        answer["no target"] = status(lambda: s.seek(request={"subscription": sub}))
        now = datetime.datetime.now(datetime.UTC)
        c.publisher.publish(topic, b"m4").result()
        s.seek(request={"subscription": sub, "time": now - datetime.timedelta(hours=1)})
        answer["after seeking an hour back"] = pull()
        c.publisher.publish(topic, b"m5").result()
        s.seek(request={"subscription": sub, "time": now + datetime.timedelta(hours=1)})
        answer["after seeking an hour ahead"] = pull()
        answer["delete"] = status(lambda: s.delete_snapshot(snapshot=snap))
        answer["delete again"] = status(lambda: s.delete_snapshot(snapshot=snap))
        answer["get deleted"] = status(lambda: s.get_snapshot(snapshot=snap))
        return answer

    ours, google = compare(scenario)
    assert ours == google
    assert ours["after seeking the snapshot"] == [b"m1", b"m2", b"m3"]
