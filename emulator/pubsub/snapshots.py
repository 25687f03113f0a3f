"""Snapshots and Seek: a snapshot owes what its subscription owed when it was taken, and every
message published to the topic since, until it expires (seven days after the oldest message it
owes, as Pub/Sub computes `expire_time`). Seeking a subscription to a snapshot makes it owe
exactly that; seeking to a time acknowledges what was published before it and makes the rest due
again (acknowledged messages are not kept, so they do not come back: no `retain_acked_messages`).

Checked against Google's emulator (names, status codes, what is delivered after a seek), which
answers UNIMPLEMENTED to UpdateSnapshot; that one follows the service's documents.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.errors import already_exists, failed_precondition, invalid, not_found
from emulator.pubsub.resources import apply_mask
from emulator.pubsub.store import Store

__all__ = ["Snapshot", "Snapshots"]

SnapshotPb = types.Snapshot.pb()
LIFETIME_NS = 7 * 24 * 3600 * 10**9
_NAME = re.compile(r"^projects/([^/]+)/snapshots/([A-Za-z][A-Za-z0-9\-_.~+%]{2,254})$")


@dataclass(eq=False)
class Snapshot:
    id: int
    pb: Message


def _require_name(name: str) -> str:
    if not _NAME.match(name):
        raise invalid(f"Invalid [snapshots] name: (name={name})")
    return name


class Snapshots:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_name: dict[str, Snapshot] = {}
        for snapshot_id, name, body in store.snapshots():
            self.by_name[name] = Snapshot(snapshot_id, SnapshotPb.FromString(body))

    def owing(self, topic: str) -> list[int]:
        """The delivery ids (negative) of the snapshots that keep what `topic` publishes."""
        return [-s.id for s in self.by_name.values() if s.pb.topic == topic]

    def create(self, name: str, sub_id: int, topic: str, labels: dict[str, str]) -> Message:
        _require_name(name)
        if name in self.by_name:
            raise already_exists("Snapshot already exists")
        pb = SnapshotPb(name=name, topic=topic, labels=labels)
        with self.store.tx():
            oldest = self.store.oldest_owed(sub_id)
            expires = (oldest if oldest is not None else time.time_ns()) + LIFETIME_NS
            pb.expire_time.FromNanoseconds(expires // 1_000_000 * 1_000_000)
            snapshot_id = self.store.insert_snapshot(name, pb.SerializeToString(), sub_id)
        self.by_name[name] = Snapshot(snapshot_id, pb)
        return pb

    def get(self, name: str) -> Snapshot:
        snapshot = self.by_name.get(_require_name(name))
        if snapshot is None:
            raise not_found("Snapshot does not exist")
        return snapshot

    def list_snapshots(self, project: str) -> list[Message]:
        prefix = project + "/snapshots/"
        return [self.by_name[n].pb for n in sorted(self.by_name) if n.startswith(prefix)]

    def of_topic(self, topic: str) -> list[str]:
        return sorted(n for n, s in self.by_name.items() if s.pb.topic == topic)

    def update(self, update: Message, mask: field_mask_pb2.FieldMask) -> Message:
        snapshot = self.get(update.name)
        for path in mask.paths:
            if path.split(".", 1)[0] not in ("labels", "expire_time"):
                raise invalid(f"field {path!r} cannot be updated")
        pb = apply_mask(snapshot.pb, update, mask)
        with self.store.tx():
            self.store.update_snapshot(snapshot.id, pb.SerializeToString())
        snapshot.pb = pb
        return pb

    def delete(self, name: str) -> None:
        snapshot = self.get(name)
        with self.store.tx():
            self.store.delete_snapshot(snapshot.id)
        del self.by_name[name]

    def seek_snapshot(self, sub_id: int, topic: str, name: str) -> None:
        snapshot = self.get(name)
        if snapshot.pb.topic != topic:
            raise failed_precondition(
                f"The subscription's topic {topic} is different from that of the snapshot "
                f"{snapshot.pb.topic}; they must match in order for Seek work."
            )
        with self.store.tx():
            self.store.drop_deliveries(sub_id)
            self.store.copy_deliveries(-snapshot.id, sub_id)

    def seek_time(self, sub_id: int, at_ns: int) -> None:
        with self.store.tx():
            self.store.seek_time(sub_id, at_ns)

    def expire(self) -> None:
        """Delete the snapshots past their expire_time (the periodic sweep calls this)."""
        now = time.time_ns()
        for name, snapshot in list(self.by_name.items()):
            if snapshot.pb.expire_time.ToNanoseconds() <= now:
                self.delete(name)
