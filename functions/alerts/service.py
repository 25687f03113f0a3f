"""Core of the alerts function: an organisation's alerts (filters, paging), acknowledging and
resolving them by hand, and the feed of alert changes behind the live stream."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from shared.bus import Bus
from shared.deadletter import confirm
from shared.directory import require_id
from shared.errors import Conflict, NotFound, ValidationError
from shared.rules.alerts import (
    STATES,
    alert_path,
    alert_view,
    alerts_path,
    change,
    change_attributes,
    events_path,
    transition,
)
from shared.store import Document, Filter, Query, Store, Transaction
from shared.streaming import SseEvent
from shared.topics import ALERT_CHANGES

__all__ = ["AlertFeed", "Alerts", "Filters"]

_FILTERS = {"state", "device", "sensor", "rule"}


class Filters:
    """The list's filters: equality on state, device, sensor, rule; `opened_ns` in [from, to)."""

    def __init__(self, values: Mapping[str, str | None], start: int | None, end: int | None):
        self.values = {k: v for k, v in values.items() if v}
        for name, value in self.values.items():
            if name not in _FILTERS:
                raise ValidationError(f"unknown filter {name!r}", field=name)
            if name == "state" and value not in STATES:
                raise ValidationError(f"state is one of {', '.join(STATES)}", field="state")
            if name != "state":
                require_id(value, name)
        self.start, self.end = start, end

    def where(self) -> tuple[Filter, ...]:
        out = [Filter(name, "==", value) for name, value in sorted(self.values.items())]
        if self.start is not None:
            out.append(Filter("opened_ns", ">=", self.start))
        if self.end is not None:
            out.append(Filter("opened_ns", "<", self.end))
        return tuple(out)


class Alerts:
    """Alerts of the organisation of each call; `bus` carries changes made by hand."""

    def __init__(
        self, store: Store, bus: Callable[[], Bus], *, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock

    def _load(self, org: str, alert: str) -> Document:
        document = self.store.get(alert_path(org, require_id(alert, "alert")))
        if document is None:
            raise NotFound(f"no alert {alert!r}")
        return document

    def list(self, org: str, filters: Filters, limit: int, cursor: str | None) -> dict[str, Any]:
        """Newest opened first."""
        query = Query(
            alerts_path(org),
            where=filters.where(),
            order_by=(("opened_ns", "desc"),),
            limit=limit,
            after=cursor,
        )
        page = self.store.query(query)
        return {"items": [alert_view(d.id, d.data) for d in page.documents], "next": page.next}

    def get(self, org: str, alert: str) -> dict[str, Any]:
        document = self._load(org, alert)
        return alert_view(document.id, document.data)

    def acknowledge(self, org: str, alert: str, by: str) -> dict[str, Any]:
        """open -> acknowledged (again: the same answer); a resolved alert is 409."""
        return self._move(org, alert, "acknowledged", by)

    def resolve(self, org: str, alert: str, by: str) -> dict[str, Any]:
        """open or acknowledged -> resolved (again: the same answer); the rule's series forgets
        it, so the next firing opens a new alert."""
        return self._move(org, alert, "resolved", by)

    def _move(self, org: str, alert: str, state: str, by: str) -> dict[str, Any]:
        path = alert_path(org, require_id(alert, "alert"))
        now = self.clock()

        def step(txn: Transaction) -> dict[str, Any]:
            document = txn.get(path)
            if document is None:
                raise NotFound(f"no alert {alert!r}")
            data = document.data
            if data.get("state") == state:
                return data  # repeated: publish the latest change again (at least once)
            if data.get("state") == "resolved":
                raise Conflict("the alert is resolved; it cannot be acknowledged")
            series = data.get("series")
            series_doc = txn.get(series) if state == "resolved" and series else None
            moved = transition(data, state, now_ns=now, by=by)
            record = change(org, alert, moved)
            txn.set(path, moved)
            txn.create(f"{events_path(org)}/{record.event_id}", record.data)
            if series_doc is not None and series_doc.data.get("alert") == alert:
                txn.update(series_doc.path, {"alert": None})
            return moved

        data = self.store.run_transaction(step)
        record = change(org, alert, data)
        confirm(
            [
                self.bus().publish(
                    ALERT_CHANGES, orjson.dumps(record.data), change_attributes(record.data)
                )
            ]
        )
        return alert_view(alert, data)


class AlertFeed:
    """The organisation's alert changes after `after` (an event id, else from now), polled from
    the store every `timeout` seconds (the stream's poll interval)."""

    def __init__(
        self,
        store: Store,
        org: str,
        after: str | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.store = store
        self.org = org
        self.after = after or f"{clock():019d}"
        self.sleep = sleep

    def next_events(self, timeout: float) -> list[SseEvent]:
        page = self.store.query(
            Query(
                events_path(self.org),
                where=(Filter("id", ">", self.after),),
                order_by=(("id", "asc"),),
                limit=100,
            )
        )
        if not page.documents:
            self.sleep(timeout)
            return []
        events = [SseEvent(d.data, id=d.data["id"], event="alert") for d in page.documents]
        self.after = page.documents[-1].data["id"]
        return events
