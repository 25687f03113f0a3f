"""Outboxes: bus messages a transaction stored in a state document, published after the commit,
then dropped from it (a redelivery publishes what is left, so nothing is lost between the commit
and the publish; consumers de-duplicate by the message's `id`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from shared.bus import Bus
from shared.deadletter import confirm
from shared.store import Store, Transaction

__all__ = ["publish_outbox"]

Pending = Sequence[tuple[str, dict[str, Any]]]  # (state document path, message data with "id")


def publish_outbox(
    store: Store,
    bus: Bus,
    topic: str,
    pending: Pending,
    attributes: Callable[[Mapping[str, Any]], dict[str, str]],
) -> None:
    """Publish every pending message, wait for the bus, then drop them from their outboxes."""
    confirm(bus.publish(topic, orjson.dumps(data), attributes(data)) for _, data in pending)
    done: dict[str, set[str]] = {}
    for path, data in pending:
        done.setdefault(path, set()).add(data["id"])
    for path, ids in done.items():
        store.run_transaction(lambda txn, p=path, i=ids: _drop(txn, p, i))  # type: ignore[misc]


def _drop(txn: Transaction, path: str, ids: set[str]) -> None:
    document = txn.get(path)
    if document is None:
        return
    outbox = orjson.loads(document.data.get("outbox") or b"[]")
    kept = [entry for entry in outbox if entry.get("id") not in ids]
    if len(kept) != len(outbox):
        txn.update(path, {"outbox": orjson.dumps(kept)})
