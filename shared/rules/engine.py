"""The rule engine: new readings (or a clock tick) move each (rule, sensor) window state in a store
transaction, opening and resolving alerts in the same transaction.

Alert changes leave through an outbox: the transaction stores them in the series state, they are
published to `alert-changes` after the commit, then removed from the outbox. A redelivered
message finds its key among the state's seen keys, changes nothing, and publishes whatever is
still in the outbox (so a crash between commit and publish loses no notification; consumers
de-duplicate by the change's `id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.bus import Bus
from shared.locks import KeyedLocks
from shared.outbox import publish_outbox
from shared.rules.alerts import (
    alert_path,
    change,
    change_attributes,
    events_path,
    new_alert,
    series_path,
    transition,
)
from shared.rules.evaluate import Point
from shared.rules.model import Rule
from shared.rules.window import SeriesState, evaluate_status, keep_from, merge_points
from shared.store import Store, Transaction
from shared.topics import ALERT_CHANGES

__all__ = ["Engine", "Outcome", "SeriesInput"]

_GROUP = 60  # series per transaction (each writes at most 3 documents; Firestore allows 500)


@dataclass(frozen=True, slots=True)
class SeriesInput:
    """New readings of one sensor for one rule (none for a clock tick), and the names the
    condition may use (device, sensor, name, path, unit; detector, threshold)."""

    rule: Rule
    device: str
    sensor: str
    names: Mapping[str, Any]
    points: Sequence[Point] = ()
    since_ns: int = 0  # a series not stored yet: its silence counts from max(this, rule creation)


@dataclass
class Outcome:
    """What one call did: alert changes published, series skipped as redeliveries."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    redelivered: int = 0
    evaluated: int = 0


class Engine:
    """Runs rules over window states in `store`; publishes alert changes on `bus()`."""

    def __init__(self, store: Store, bus: Callable[[], Bus]) -> None:
        self.store = store
        self.bus = bus
        self.locks = KeyedLocks()

    def apply(
        self, org: str, inputs: Sequence[SeriesInput], key: str | None, now_ns: int
    ) -> Outcome:
        """Evaluate every input; `key` identifies the message (None for a clock tick, which is
        always evaluated); `now_ns` is processing time (arrival or tick)."""
        outcome = Outcome()
        for start in range(0, len(inputs), _GROUP):
            group = inputs[start : start + _GROUP]
            pending: list[tuple[str, dict[str, Any]]] = []
            counts = [0, 0]

            def step(
                txn: Transaction,
                group: Sequence[SeriesInput] = group,
                pending: list[tuple[str, dict[str, Any]]] = pending,
                counts: list[int] = counts,
            ) -> None:
                pending.clear()  # the store may run this again after a conflict
                counts[:] = [0, 0]
                self._step(txn, org, group, key, now_ns, pending, counts)

            keys = (f"{org}/{i.rule.id}/{i.device}/{i.sensor}" for i in group)
            with self.locks.hold(keys):
                self.store.run_transaction(step)
            outcome.redelivered += counts[0]
            outcome.evaluated += counts[1]
            if pending:
                self._publish(pending)
                outcome.changes.extend(data for _, data in pending)
        return outcome

    def _step(
        self,
        txn: Transaction,
        org: str,
        group: Sequence[SeriesInput],
        key: str | None,
        now_ns: int,
        pending: list[tuple[str, dict[str, Any]]],
        counts: list[int],
    ) -> None:
        paths = [series_path(org, i.rule.id, i.device, i.sensor) for i in group]
        docs = txn.get_many(paths)
        states = [SeriesState.from_data(d.data if d else None) for d in docs]
        open_ids = sorted({s.alert for s in states if s.alert})
        found = txn.get_many([alert_path(org, a) for a in open_ids])
        alerts = {a: d.data for a, d in zip(open_ids, found, strict=True) if d is not None}
        for item, state, path in zip(group, states, paths, strict=True):
            if key is not None and not state.remember(key):
                counts[0] += 1
                pending.extend((path, data) for data in state.outbox)
                continue
            counts[1] += 1
            fresh = self._evaluate(txn, org, item, state, path, now_ns, alerts)
            pending.extend((path, data) for data in fresh)
            stored = state.to_data()
            stored.update(
                rule=item.rule.id, device=item.device, sensor=item.sensor, updated_ns=now_ns
            )
            txn.set(path, stored)

    def _evaluate(
        self,
        txn: Transaction,
        org: str,
        item: SeriesInput,
        state: SeriesState,
        path: str,
        now_ns: int,
        alerts: Mapping[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        rule = item.rule
        if item.points:
            state.points = merge_points(state.points, item.points)
            state.received = max(state.received, now_ns)
        elif not state.received and item.since_ns > rule.created_ns:
            state.received = item.since_ns  # a sensor made after the rule: silent since then
        state.points = state.points[keep_from(state.points, rule.condition, rule.for_ns) :]
        received = state.received or rule.created_ns
        status = evaluate_status(
            state.points, rule.condition, rule.for_ns, item.names, now_ns, received
        )
        state.version, state.since = rule.version, status.since
        changes: list[dict[str, Any]] = []
        if status.firing and not state.firing:
            state.firing = True
            if state.alert is None:
                value = state.points[-1][1] if state.points else None
                alert_id, data = new_alert(
                    rule=rule.id, rule_name=rule.name, device=item.device, sensor=item.sensor,
                    severity=rule.severity, event_ns=state.watermark or now_ns, now_ns=now_ns,
                    value=value, series=path,
                )  # fmt: skip
                txn.create(alert_path(org, alert_id), data)
                changes.append(self._record(txn, org, alert_id, data))
                state.alert = alert_id
        elif not status.firing and state.firing:
            state.firing = False
            current = alerts.get(state.alert) if state.alert else None
            if state.alert and current is not None and current.get("state") != "resolved":
                value = state.points[-1][1] if state.points else None
                data = transition(current, "resolved", now_ns=now_ns, by="rule", value=value)
                txn.set(alert_path(org, state.alert), data)
                changes.append(self._record(txn, org, state.alert, data))
            state.alert = None
        state.outbox.extend(changes)
        return changes

    @staticmethod
    def _record(txn: Transaction, org: str, alert_id: str, data: dict[str, Any]) -> dict[str, Any]:
        record = change(org, alert_id, data)
        txn.create(f"{events_path(org)}/{record.event_id}", record.data)
        return record.data

    def _publish(self, pending: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Publish the changes, wait for the bus, then drop them from their outboxes."""
        publish_outbox(self.store, self.bus(), ALERT_CHANGES, pending, change_attributes)
