"""The emulator's core: topics, subscriptions, publishing, leasing, acks and dead letters.

Everything runs on one asyncio event loop; each operation is one synchronous SQLite transaction,
so operations never interleave. Waiters (streams, push loops) sleep on a subscription's Signal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson
from google.protobuf.message import Message

from emulator.pubsub.delivery import (
    Lease,
    Subscription,
    check_attributes,
    current_leases,
    dead_letter_copy,
    parse_ack_ids,
)
from emulator.pubsub.errors import already_exists, failed_precondition, invalid, not_found
from emulator.pubsub.names import (
    require_project,
    require_subscription,
    require_topic,
)
from emulator.pubsub.resources import (
    DELETED_TOPIC,
    SubscriptionPb,
    TopicPb,
    apply_mask,
    normalize_subscription,
    normalize_topic,
)
from emulator.pubsub.schemas import DELETED_SCHEMA, Schemas
from emulator.pubsub.snapshots import Snapshots
from emulator.pubsub.store import Row, Store

__all__ = ["Broker"]

_log = logging.getLogger("stratus.pubsub")


class Broker:
    def __init__(self, data_dir: Path) -> None:
        self.store = Store(data_dir / "pubsub.sqlite3")
        self.schemas = Schemas(self.store)
        self.snapshots = Snapshots(self.store)
        self.topics: dict[str, Message] = {}
        for name, body in self.store.topics():
            self.topics[name] = TopicPb.FromString(body)
        self.subs: dict[str, Subscription] = {}
        for sub_id, name, body in self.store.subscriptions():
            self.subs[name] = Subscription(sub_id, SubscriptionPb.FromString(body))
        # push deliveries in flight when the last process died will never be answered: deliver
        # them again now rather than after their ack deadline (pull leases belong to clients
        # that may still hold the messages, so they run their course)
        with self.store.tx():
            for sub in self.subs.values():
                if sub.pb.push_config.push_endpoint:
                    self.store.release(sub.id)
        self.on_change: Callable[[Subscription, bool], None] = lambda sub, alive: None

    def close(self) -> None:
        self.store.close()

    # topics ----------------------------------------------------------------------------------

    def topic(self, name: str) -> Message:
        topic = self.topics.get(require_topic(name))
        if topic is None:
            raise not_found(f"Resource not found (resource={name}).")
        return topic

    def create_topic(self, topic: Message) -> Message:
        require_topic(topic.name)
        if topic.name in self.topics:
            raise already_exists(f"Topic already exists (resource={topic.name}).")
        normalize_topic(topic)
        if topic.HasField("schema_settings"):
            self.schemas.check_settings(topic.schema_settings)
        with self.store.tx():
            self.store.put_topic(topic.name, topic.SerializeToString())
        self.topics[topic.name] = topic
        return topic

    def update_topic(self, update: Message, mask: Message) -> Message:
        topic = apply_mask(self.topic(update.name), update, mask)
        normalize_topic(topic)
        if topic.HasField("schema_settings"):
            self.schemas.check_settings(topic.schema_settings)
        with self.store.tx():
            self.store.put_topic(topic.name, topic.SerializeToString())
        self.topics[topic.name] = topic
        return topic

    def delete_topic(self, name: str) -> None:
        self.topic(name)
        with self.store.tx():
            self.store.delete_topic(name)
            for sub in self.subs.values():
                if sub.pb.topic == name:
                    sub.pb.topic = DELETED_TOPIC
                    self.store.update_subscription(sub.id, sub.pb.SerializeToString())
        del self.topics[name]

    def list_topics(self, project: str) -> list[Message]:
        prefix = require_project(project) + "/topics/"
        return [self.topics[n] for n in sorted(self.topics) if n.startswith(prefix)]

    def topic_subscriptions(self, name: str) -> list[str]:
        self.topic(name)
        return sorted(
            s.name for s in self.subs.values() if s.pb.topic == name and not s.pb.detached
        )

    def delete_schema(self, name: str) -> None:
        """Delete a schema; the topics bound to it name `_deleted-schema_` (publishing fails)."""
        self.schemas.delete(name)
        for topic in self.topics.values():
            if topic.schema_settings.schema == name:
                topic.schema_settings.schema = DELETED_SCHEMA
                with self.store.tx():
                    self.store.put_topic(topic.name, topic.SerializeToString())

    def publish(self, name: str, messages: Sequence[Message]) -> list[str]:
        """Store the messages for every current subscription of the topic; their ids."""
        topic = self.topic(name)
        if not messages:
            raise invalid("publish needs at least one message")
        settings = topic.schema_settings if topic.HasField("schema_settings") else None
        rows = []
        for message in messages:
            if not message.data and not message.attributes:
                raise invalid("a message needs data or at least one attribute")
            attributes = dict(message.attributes)
            if attributes:
                check_attributes(attributes)
            if settings is not None:  # validated against the schema, named in the attributes
                attributes.update(self.schemas.attributes(settings, message.data))
            rows.append((message.data, orjson.dumps(attributes), message.ordering_key))
        with self.store.tx():
            ids, subs = self._publish(name, rows)
        for sub in subs:
            sub.signal.notify()
        return [str(i) for i in ids]

    def _publish(
        self, topic: str, rows: Sequence[tuple[bytes, bytes, str]]
    ) -> tuple[list[int], list[Subscription]]:
        subs = [s for s in self.subs.values() if s.pb.topic == topic and not s.pb.detached]
        owing = [s.id for s in subs] + self.snapshots.owing(topic)
        ids = self.store.publish(rows, owing, time.time_ns())
        return ids, subs

    # subscriptions ---------------------------------------------------------------------------

    def subscription(self, name: str) -> Subscription:
        sub = self.subs.get(require_subscription(name))
        if sub is None:
            raise not_found(f"Resource not found (resource={name}).")
        return sub

    def create_subscription(self, pb: Message) -> Message:
        require_subscription(pb.name)
        topic = self.topic(pb.topic)
        if pb.name in self.subs:
            raise already_exists(f"Subscription already exists (resource={pb.name}).")
        normalize_subscription(pb, topic)
        with self.store.tx():
            sub_id = self.store.insert_subscription(pb.name, pb.SerializeToString())
        sub = self.subs[pb.name] = Subscription(sub_id, pb)
        self.on_change(sub, True)
        return pb

    def update_subscription(self, update: Message, mask: Message) -> Message:
        sub = self.subscription(update.name)
        pb = apply_mask(sub.pb, update, mask)
        normalize_subscription(pb, self.topics.get(pb.topic))
        self._save(sub, pb)
        return pb

    def modify_push_config(self, name: str, push_config: Message) -> None:
        sub = self.subscription(name)
        pb = SubscriptionPb()
        pb.CopyFrom(sub.pb)
        pb.push_config.CopyFrom(push_config)
        normalize_subscription(pb, self.topics.get(pb.topic))
        self._save(sub, pb)

    def _save(self, sub: Subscription, pb: Message) -> None:
        with self.store.tx():
            self.store.update_subscription(sub.id, pb.SerializeToString())
        sub.pb = pb
        sub.signal.notify()
        self.on_change(sub, True)

    def delete_subscription(self, name: str) -> None:
        sub = self.subscription(name)
        with self.store.tx():
            self.store.delete_subscription(sub.id)
        del self.subs[name]
        sub.signal.notify()
        self.on_change(sub, False)

    def detach_subscription(self, name: str) -> None:
        """Drop what the subscription owes and take no more: pulls then fail, pushes stop."""
        sub = self.subscription(name)
        pb = SubscriptionPb()
        pb.CopyFrom(sub.pb)
        pb.detached = True
        with self.store.tx():
            self.store.drop_deliveries(sub.id)
        self._save(sub, pb)

    def puller(self, name: str) -> Subscription:
        """The subscription a Pull or StreamingPull names: FAILED_PRECONDITION once detached."""
        sub = self.subscription(name)
        if sub.pb.detached:
            raise failed_precondition(f"Subscription is detached (resource={name}).")
        return sub

    def create_snapshot(self, name: str, subscription: str, labels: dict[str, str]) -> Message:
        sub = self.puller(subscription)
        return self.snapshots.create(name, sub.id, sub.pb.topic, labels)

    def seek(self, subscription: str, at_ns: int | None, snapshot: str | None) -> None:
        """Seek to a time (`at_ns`) or to a snapshot; what is owed again is due at once."""
        sub = self.puller(subscription)
        if snapshot is not None:
            self.snapshots.seek_snapshot(sub.id, sub.pb.topic, snapshot)
        elif at_ns is not None:
            self.snapshots.seek_time(sub.id, at_ns)
        else:
            raise invalid(
                "No target was specified in the SeekRequest. Must specify either a time or a "
                "snapshot"
            )
        sub.signal.notify()

    def list_subscriptions(self, project: str) -> list[Message]:
        prefix = require_project(project) + "/subscriptions/"
        return [self.subs[n].pb for n in sorted(self.subs) if n.startswith(prefix)]

    # delivery --------------------------------------------------------------------------------

    def take(self, sub: Subscription, limit: int, lease_seconds: float) -> list[Lease]:
        """Lease up to `limit` due messages for `lease_seconds`.

        Messages past retention are dropped and messages already handed out max_delivery_attempts
        times go to the dead-letter topic instead (so fewer than `limit` may come back while
        more are due: call again).
        """
        now = time.time()
        cutoff = time.time_ns() - int(sub.retention * 1e9)
        with self.store.tx():
            rows = self.store.available(sub.id, now, limit, sub.pb.enable_message_ordering)
            expired = [r.msg for r in rows if r.publish_ns < cutoff]
            rows = [r for r in rows if r.publish_ns >= cutoff]
            dead = [r for r in rows if sub.max_attempts and r.attempts >= sub.max_attempts]
            woken = self._dead_letter(sub, dead) if dead else []
            if woken is not None:
                rows = [r for r in rows if r not in dead]
            self.store.ack(sub.id, expired)
            self.store.lease(sub.id, [r.msg for r in rows], now + lease_seconds)
        for other in woken or ():
            other.signal.notify()
        return [Lease(f"{sub.id}-{r.msg}-{r.attempts + 1}", r, r.attempts + 1) for r in rows]

    def _dead_letter(self, sub: Subscription, rows: Sequence[Row]) -> list[Subscription] | None:
        """In a transaction: republish `rows` on the dead-letter topic and ack them on `sub`;
        the subscriptions to wake, or None (nothing done) when the topic does not exist."""
        topic = sub.pb.dead_letter_policy.dead_letter_topic
        if topic not in self.topics:
            _log.warning("%s: dead-letter topic %s does not exist; retrying", sub.name, topic)
            return None
        _, woken = self._publish(topic, [dead_letter_copy(sub, row) for row in rows])
        self.store.ack(sub.id, [r.msg for r in rows])
        _log.info("%s: %d message(s) dead-lettered to %s", sub.name, len(rows), topic)
        return woken

    def acknowledge(self, name: str, ack_ids: Sequence[str]) -> list[str]:
        """Acknowledge; with exactly-once, the ack ids that were no longer valid (the others
        are acknowledged all the same)."""
        sub = self.subscription(name)
        leases = parse_ack_ids(sub, ack_ids)
        with self.store.tx():
            leases, failed = current_leases(self.store, sub, leases)
            self.store.ack(sub.id, [msg for _, msg, _ in leases])
        self._settled(sub, ack_ids)
        return failed

    def modify_ack_deadline(self, name: str, ack_ids: Sequence[str], seconds: int) -> list[str]:
        """Extend (or with 0, end at once: nack) the leases of still-current ack ids; with
        exactly-once, the ack ids that were no longer valid."""
        if not 0 <= seconds <= 600:
            raise invalid(f"ack_deadline_seconds must be 0..600, got {seconds}")
        sub = self.subscription(name)
        leases = parse_ack_ids(sub, ack_ids)
        with self.store.tx():
            leases, failed = current_leases(self.store, sub, leases)
            due = time.time() + seconds if seconds else 0.0
            self.store.set_due(sub.id, [(msg, attempt) for _, msg, attempt in leases], due)
        if seconds == 0:
            self._settled(sub, ack_ids)
            sub.signal.notify()
        return failed

    def retry_later(self, sub: Subscription, lease: Lease, delay: float) -> None:
        """A failed push: due again after `delay` seconds (if the lease is still current)."""
        with self.store.tx():
            self.store.set_due(sub.id, [(lease.row.msg, lease.attempt)], time.time() + delay)

    def _settled(self, sub: Subscription, ack_ids: Sequence[str]) -> None:
        for listener in list(sub.listeners):
            listener(ack_ids)

    def sweep(self) -> None:
        """Periodic: drop messages past retention, dead-letter exhausted ones nobody pulls,
        delete expired snapshots."""
        self.snapshots.expire()
        now = time.time()
        for sub in list(self.subs.values()):
            cutoff = time.time_ns() - int(sub.retention * 1e9)
            with self.store.tx():
                dropped = self.store.expire(sub.id, cutoff)
                woken: list[Subscription] | None = None
                if sub.max_attempts:
                    dead = self.store.exhausted(sub.id, now, sub.max_attempts, 500)
                    woken = self._dead_letter(sub, dead) if dead else None
            if dropped:
                _log.info("%s: %d message(s) past retention dropped", sub.name, dropped)
            for other in woken or ():
                other.signal.notify()
