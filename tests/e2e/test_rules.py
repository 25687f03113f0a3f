"""Rules and alerts end to end through the emulator: a threshold rule opens exactly one alert for a
burst, it is acknowledged and resolves when values return; `for` and windows over out-of-order
readings; deadman fires on silence through the scheduled trigger; a redelivered message changes
nothing; the live stream carries the changes; a bad condition is a 400 at its column; tenants are
isolated (401/403/404)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import orjson
import pytest
from google.cloud import pubsub_v1
from httpx_sse import connect_sse

from shared.redelivery import unpack_keys
from shared.rules.alerts import series_path
from shared.topics import TELEMETRY_NORMALIZED
from tests.e2e.provisioning import Api, foreign_admin, store_of
from tests.support.emulator import RunningEmulator
from tests.support.waiting import eventually, until

pytestmark = [pytest.mark.e2e, pytest.mark.process]

BASE = 1_790_000_000  # event time of the readings, seconds


def _device(admin: Api) -> tuple[str, str, str]:
    """A device with a double sensor `temp`: (device, sensor, device token)."""
    device = admin.post("/api/devices", json={"name": "rules-e2e"}).json()["result"]["id"]
    sensor = admin.post(
        f"/api/devices/{device}/sensors", json={"name": "temp", "mapping": {"type": "double"}}
    ).json()["id"]
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    return device, sensor, token


def _send(
    platform: RunningEmulator, token: str, sensor: str, readings: list[tuple[int, float]]
) -> None:
    body = [{"sensor_id": sensor, "timestamp": BASE + t, "value": v} for t, v in readings]
    answer = httpx.post(
        f"{platform.base_url}/ingest",
        json=body,
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def _rule(admin: Api, **body: Any) -> str:
    answer = admin.post("/api/rules", json={"name": "r", **body})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _alerts(admin: Api, rule: str, **filters: str) -> list[dict[str, Any]]:
    answer = admin.get("/api/alerts", params={"rule": rule, **filters})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _wait_alerts(admin: Api, rule: str, done: Any, **filters: str) -> list[dict[str, Any]]:
    answer = eventually(
        lambda: admin.get("/api/alerts", params={"rule": rule, **filters}),
        lambda r: r.status_code == 200 and done(r.json()["items"]),
        timeout=40,
    )
    return list(answer.json()["items"])


def test_a_burst_opens_one_alert_which_is_acknowledged_and_resolves(
    platform: RunningEmulator,
) -> None:
    admin = foreign_admin(platform)  # an organisation of its own: no rules cached for it yet
    device, sensor, token = _device(admin)
    rule = _rule(admin, select={"sensors": [f"{device}/{sensor}"]}, condition="value > 30")
    events: list[dict[str, Any]] = []
    listening = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(timeout=60) as client,
            connect_sse(
                client, "GET", f"{platform.base_url}/api/alerts/stream", headers=admin.headers()
            ) as source,
        ):
            listening.set()
            for sse in source.iter_sse():
                if not sse.data:  # the opening `retry:` field alone
                    continue
                events.append({"event": sse.event, "id": sse.id, **sse.json()})
                if len(events) >= 3:
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert listening.wait(20)
    for t in range(5):  # a burst, in several requests
        _send(platform, token, sensor, [(t * 2, 31.0 + t), (t * 2 + 1, 40.0)])
    (alert,) = _wait_alerts(admin, rule, lambda items: len(items) >= 1)
    assert alert["state"] == "open" and alert["device"] == device and alert["sensor"] == sensor
    acked = admin.post(f"/api/alerts/{alert['id']}/ack")
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert admin.post(f"/api/alerts/{alert['id']}/ack").status_code == 200  # repeated: same
    _send(platform, token, sensor, [(20, 25.0)])
    (done,) = _wait_alerts(admin, rule, lambda items: items and items[0]["state"] == "resolved")
    assert [h["state"] for h in done["history"]] == ["open", "acknowledged", "resolved"]
    assert done["resolved_by"] == "rule"
    assert len(_alerts(admin, rule)) == 1  # exactly one alert for the whole burst
    assert admin.post(f"/api/alerts/{alert['id']}/ack").status_code == 409
    thread.join(30)
    assert [e["change"] for e in events] == ["opened", "acknowledged", "resolved"]
    assert all(e["event"] == "alert" and e["alert"]["id"] == alert["id"] for e in events)


def test_for_and_windows_over_out_of_order_readings(platform: RunningEmulator) -> None:
    admin = foreign_admin(platform)
    device, sensor, token = _device(admin)
    rule = _rule(
        admin,
        select={"devices": [device]},
        condition="avg(value, 30s) > 10",
        **{"for": "20s"},
    )
    # event time 0..60 s every 10 s, all above 10 on average; sent newest first
    readings = [(t, 12.0 + t / 10) for t in range(0, 70, 10)]
    _send(platform, token, sensor, list(reversed(readings[3:])))
    _send(platform, token, sensor, list(reversed(readings[:3])))
    (alert,) = _wait_alerts(admin, rule, lambda items: len(items) == 1)
    assert alert["opened_ns"] == (BASE + 60) * 10**9  # at the watermark
    # a late reading inside the last window drags the average under 10: the alert resolves
    _send(platform, token, sensor, [(55, -100.0)])
    (resolved,) = _wait_alerts(admin, rule, lambda items: items[0]["state"] == "resolved")
    assert resolved["resolved_by"] == "rule"


def test_deadman_fires_on_silence_through_the_scheduled_trigger(platform: RunningEmulator) -> None:
    admin = foreign_admin(platform)
    device, sensor, token = _device(admin)
    rule = _rule(admin, select={"sensors": [f"{device}/{sensor}"]}, condition="deadman(4s)")
    _send(platform, token, sensor, [(0, 1.0)])
    (alert,) = _wait_alerts(admin, rule, lambda items: len(items) == 1)  # ticks every 3 s
    assert alert["state"] == "open"
    _send(platform, token, sensor, [(1, 1.0)])
    _wait_alerts(admin, rule, lambda items: items[0]["state"] == "resolved")


def test_a_redelivered_message_changes_nothing(
    platform: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = foreign_admin(platform)
    device, sensor, _ = _device(admin)
    rule = _rule(admin, select={"devices": [device]}, condition="value > 5")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", platform.pubsub)
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(platform.project, TELEMETRY_NORMALIZED)

    def publish(ts: int, request: str) -> None:
        message = {
            "org": admin.org,
            "device": device,
            "source": {"message_id": request, "transport": "http"},
            "readings": [{"sensor": sensor, "ts": ts, "value": 9.0, "type": "double"}],
        }
        attributes = {"org": admin.org, "device": device, "received_ns": str(ts)}
        publisher.publish(topic, orjson.dumps(message), **attributes).result(30)

    publish(BASE * 10**9, "once")
    publish(BASE * 10**9, "once")  # the same message again, as a redelivery brings it
    publish((BASE + 1) * 10**9, "later")  # then another one
    store = store_of(platform)
    path = series_path(admin.org, rule, device, sensor)

    def both_seen() -> bool:
        document = store.get(path)
        return document is not None and document.data["watermark"] == (BASE + 1) * 10**9

    assert until(both_seen, 40)
    document = store.get(path)
    assert document is not None
    assert len(unpack_keys(document.data["seen"])) == 2  # the repeated message counted once
    assert orjson.loads(document.data["points"]) == [[BASE * 10**9, 9.0], [(BASE + 1) * 10**9, 9.0]]
    (alert,) = _alerts(admin, rule)
    assert [h["state"] for h in alert["history"]] == ["open"]
    publisher.transport.close()


def test_a_bad_condition_is_a_400_at_its_column(platform: RunningEmulator) -> None:
    admin = foreign_admin(platform)
    answer = admin.post("/api/rules", json={"name": "bad", "condition": "avg(value, 5m) > > 3"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "condition" and error["details"]["column"] == 18


def test_tenants_never_see_each_others_rules_or_alerts(platform: RunningEmulator) -> None:
    owner, other = foreign_admin(platform), foreign_admin(platform)
    device, sensor, token = _device(owner)
    rule = _rule(owner, select={"devices": [device]}, condition="value > 0")
    _send(platform, token, sensor, [(0, 1.0)])
    (alert,) = _wait_alerts(owner, rule, lambda items: len(items) == 1)
    anonymous = owner.with_token(None)
    device_api = owner.with_token(token)
    for path in (f"/api/rules/{rule}", f"/api/alerts/{alert['id']}", "/api/rules", "/api/alerts"):
        assert anonymous.get(path).status_code == 401
        assert device_api.get(path).status_code == 403
    assert other.get(f"/api/rules/{rule}").status_code == 404
    assert other.patch(f"/api/rules/{rule}", json={"name": "x"}).status_code == 404
    assert other.delete(f"/api/rules/{rule}").status_code == 404
    assert other.get(f"/api/alerts/{alert['id']}").status_code == 404
    assert other.post(f"/api/alerts/{alert['id']}/ack").status_code == 404
    assert other.post(f"/api/alerts/{alert['id']}/resolve").status_code == 404
    assert other.get("/api/alerts").json()["items"] == []
    # binding another tenant's device or sensor is a 404 naming the field
    bound = other.post("/api/rules", json={"name": "x", "condition": "value > 1",
                                           "select": {"devices": [device]}})  # fmt: skip
    assert bound.status_code == 404 and bound.json()["error"]["field"] == "select.devices[0]"
    assert owner.get(f"/api/rules/{rule}").status_code == 200
