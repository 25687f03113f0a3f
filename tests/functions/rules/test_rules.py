"""The rules core on the Firestore and Pub/Sub emulators: validation (the condition's column),
references checked inside the organisation, PATCH merging, deletion resolving alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from functions.rules.service import Rules
from shared.directory import device_path, new_id, sensor_path
from shared.errors import NotFound, ValidationError
from shared.rules.alerts import alert_path, new_alert
from shared.store.firestore import FirestoreStore
from shared.topics import ALERT_CHANGES
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(tmp_path_factory.mktemp("rules-bus"), [ALERT_CHANGES]) as running:
        yield running


@pytest.fixture
def rules(store: FirestoreStore, bus: RunningBus) -> Rules:
    return Rules(store, lambda: bus.bus, topics={"rule-output"})


def device(store: FirestoreStore, org: str) -> tuple[str, str]:
    d, s = new_id(), new_id()
    now = datetime.now(UTC)
    store.create(device_path(org, d), {"name": "d", "created_at": now})
    store.create(sensor_path(org, d, s), {"name": "t", "mapping": {"type": "double"}})
    return d, s


def test_create_validates_and_stores(rules: Rules, store: FirestoreStore, org: str) -> None:
    d, s = device(store, org)
    rule = rules.create(
        org,
        {
            "name": "hot",
            "condition": "avg(value, 5m) > 30",
            "for": "1m",
            "select": {"sensors": [f"{d}/{s}"]},
            "severity": "critical",
        },
    )
    assert (
        rule["for"] == 60 and rule["version"] == 1 and rule["select"] == {"sensors": [f"{d}/{s}"]}
    )
    assert rules.get(org, rule["id"])["condition"] == "avg(value, 5m) > 30"
    with pytest.raises(ValidationError) as bad:
        rules.create(org, {"name": "x", "condition": "value >"})
    assert bad.value.field == "condition" and bad.value.details == {"column": 8}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"select": {"devices": ["0" * 20]}}, "select.devices[0]"),
        ({"select": {"sensors": ["0" * 20 + "/" + "1" * 20]}}, "select.sensors[0]"),
        ({"select": {"detector": "2" * 20}, "condition": "anomaly"}, "select.detector"),
        (
            {"actions": [{"type": "command", "device": "3" * 20, "command": "go"}]},
            "actions[0].device",
        ),
    ],
)
def test_references_outside_the_organisation_are_404(
    rules: Rules, org: str, body: dict[str, object], field: str
) -> None:
    with pytest.raises(NotFound) as missing:
        rules.create(org, {"name": "x", "condition": "value > 1", **body})
    assert missing.value.field == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"actions": [{"type": "publish", "topic": "telemetry-raw"}]}, "actions[0].topic"),
        ({"actions": [{"type": "webhook", "url": "ftp://x"}]}, "actions[0].url"),
        ({"actions": [{"type": "email", "to": ["nobody"]}]}, "actions[0].to[0]"),
        ({"for": "soon"}, "for"),
        ({"severity": "panic"}, "severity"),
        ({"colour": "red"}, "colour"),
        ({"select": {"detector": "2" * 20, "devices": []}}, None),
    ],
)
def test_bad_fields_are_named(rules: Rules, org: str, body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as bad:
        rules.create(org, {"name": "x", "condition": "value > 1", **body})
    if field:
        assert bad.value.field == field


def test_patch_merges_and_bumps_the_version(rules: Rules, org: str) -> None:
    rule = rules.create(org, {"name": "a", "condition": "value > 1"})
    changed = rules.update(org, rule["id"], {"condition": "value > 2", "enabled": False})
    assert (changed["condition"], changed["enabled"], changed["name"], changed["version"]) == (
        "value > 2",
        False,
        "a",
        2,
    )
    with pytest.raises(ValidationError):
        rules.update(org, rule["id"], {"condition": "value >"})


def test_delete_resolves_open_alerts(
    rules: Rules, store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    rule = rules.create(org, {"name": "a", "condition": "value > 1"})
    alert, data = new_alert(
        rule=rule["id"],
        rule_name="a",
        device="d",
        sensor="s",
        severity="warning",
        event_ns=1,
        now_ns=1,
        value=2.0,
        series="x/y",
    )
    store.create(alert_path(org, alert), data)
    rules.delete(org, rule["id"])
    stored = store.get(alert_path(org, alert))
    assert stored is not None and stored.data["resolved_by"] == "rule-deleted"
    with pytest.raises(NotFound):
        rules.get(org, rule["id"])
    bus.reader.wait_for(ALERT_CHANGES, lambda got: any(m.attributes["alert"] == alert for m in got))


def test_the_webhook_secret_is_made_once_and_rotates(rules: Rules, org: str) -> None:
    first = rules.webhook_secret(org)
    assert rules.webhook_secret(org)["secret"] == first["secret"]
    assert rules.webhook_secret(org, rotate=True)["secret"] != first["secret"]
