"""The alerts core: filters, acknowledge/resolve transitions (repeatable, 409 after resolve), the
series forgetting a resolved alert, and the stream's feed reading changes in order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.alerts.service import AlertFeed, Alerts, Filters
from shared.errors import Conflict, NotFound, ValidationError
from shared.rules.alerts import alert_path, change, events_path, new_alert
from shared.store.firestore import FirestoreStore
from shared.topics import ALERT_CHANGES
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(tmp_path_factory.mktemp("alerts-bus"), [ALERT_CHANGES]) as running:
        yield running


def opened(store: FirestoreStore, org: str, *, device: str = "d" * 20, at: int = 1) -> str:
    series = f"orgs/{org}/rules/{'r' * 20}/series/{device}-{'s' * 20}"
    alert, data = new_alert(
        rule="r" * 20,
        rule_name="r",
        device=device,
        sensor="s" * 20,
        severity="warning",
        event_ns=at,
        now_ns=at,
        value=1.0,
        series=series,
    )
    store.create(alert_path(org, alert), data)
    store.set(series, {"alert": alert, "firing": True})
    record = change(org, alert, data)
    store.create(f"{events_path(org)}/{record.event_id}", record.data)
    return alert


def test_ack_then_resolve(store: FirestoreStore, bus: RunningBus, org: str) -> None:
    alerts = Alerts(store, lambda: bus.bus, clock=lambda: 50)
    alert = opened(store, org)
    assert alerts.acknowledge(org, alert, "user:u")["state"] == "acknowledged"
    assert alerts.acknowledge(org, alert, "user:u")["state"] == "acknowledged"  # repeatable
    resolved = alerts.resolve(org, alert, "user:u")
    assert [h["state"] for h in resolved["history"]] == ["open", "acknowledged", "resolved"]
    series = store.get(f"orgs/{org}/rules/{'r' * 20}/series/{'d' * 20}-{'s' * 20}")
    assert series is not None and series.data["alert"] is None  # the next firing opens anew
    with pytest.raises(Conflict):
        alerts.acknowledge(org, alert, "user:u")
    with pytest.raises(NotFound):
        alerts.resolve("o" + "0" * 12, alert, "user:u")  # another organisation


def test_filters(store: FirestoreStore, bus: RunningBus, org: str) -> None:
    alerts = Alerts(store, lambda: bus.bus)
    a = opened(store, org, device="a" * 20, at=10)
    b = opened(store, org, device="b" * 20, at=20)
    assert [x["id"] for x in alerts.list(org, Filters({}, None, None), 10, None)["items"]] == [b, a]
    only = alerts.list(org, Filters({"device": "a" * 20}, None, None), 10, None)["items"]
    assert [x["id"] for x in only] == [a]
    early = alerts.list(org, Filters({}, None, 15), 10, None)["items"]
    assert [x["id"] for x in early] == [a]
    with pytest.raises(ValidationError):
        Filters({"state": "closed"}, None, None)


def test_the_feed_reads_changes_after_a_cursor(store: FirestoreStore, org: str) -> None:
    opened(store, org, at=5)
    feed = AlertFeed(store, org, None, sleep=lambda s: None, clock=lambda: 1)
    (event,) = feed.next_events(0.0)
    assert event.event == "alert" and event.data["change"] == "opened"
    assert feed.next_events(0.0) == []
    again = AlertFeed(store, org, event.id, sleep=lambda s: None)
    assert again.next_events(0.0) == []
