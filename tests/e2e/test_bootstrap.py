"""Bootstrap through the emulator: an admin registers a device, the device bootstraps over HTTP
and gets a token that works for ingest and MQTT; every refusal is answered precisely and creates
nothing; the budget of failed attempts answers 429 with Retry-After; the admin routes are admins'
and their organisation's only."""

from __future__ import annotations

import secrets

import httpx
import pytest

from shared.store import Query
from tests.e2e.provisioning import Api, foreign_admin, signin, store_of
from tests.support.emulator import RunningEmulator

pytestmark = [pytest.mark.process, pytest.mark.e2e]

SENSORS = [{"name": "temperature", "mapping": {"type": "double", "unit": "Cel"}},
           {"name": "door", "path": "front", "mapping": '{"type": "boolean"}'}]  # fmt: skip


def bootstrap(platform: RunningEmulator, external_id: str, key: str | None) -> httpx.Response:
    headers = {} if key is None else {"authorization": f"Bootstrap {key}"}
    return httpx.get(f"{platform.base_url}/bootstrap/{external_id}", headers=headers, timeout=30)


def register(admin: Api, **extra) -> dict:
    body = {"external_id": f"SN-{secrets.token_hex(5)}", "config": {"every_s": 5},
            "sensors": SENSORS, **extra}  # fmt: skip
    answer = admin.post("/api/bootstrap", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"/api/bootstrap/{body['external_id']}"
    assert answer.headers["cache-control"] == "no-store"
    return answer.json()


def device_count(platform: RunningEmulator, org: str) -> int:
    return len(store_of(platform).query(Query(f"orgs/{org}/devices")).documents)


def test_happy_path_then_the_same_device(platform: RunningEmulator) -> None:
    admin = signin(platform)
    registration = register(admin)
    external, key = registration["external_id"], registration["external_key"]
    assert registration["device_id"] is None and registration["enabled"] is True

    first = bootstrap(platform, external, key)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    answer = first.json()
    assert answer["created"] is True and answer["config"] == {"every_s": 5}
    device, token = answer["device_id"], answer["device_token"]
    assert answer["broker"]["username"] == device
    assert answer["broker"]["url"].startswith("mqtt://127.0.0.1:")
    assert sorted(s["tree_path"] for s in answer["sensors"]) == ["front/door", "temperature"]
    # the device exists for the management API, and its token sends telemetry
    assert admin.get(f"/api/devices/{device}").json()["result"]["name"] == external
    assert admin.get(f"/api/bootstrap/{external}").json()["device_id"] == device
    sensor = next(s["id"] for s in answer["sensors"] if s["name"] == "temperature")
    sent = httpx.post(f"{platform.base_url}/ingest", timeout=30,
                      json=[{"sensor_id": sensor, "timestamp": 1_790_000_000, "value": 20.5}],
                      headers={"authorization": f"Bearer {token}"})  # fmt: skip
    assert sent.status_code == 200, sent.text

    again = bootstrap(platform, external, key).json()
    assert (again["created"], again["device_id"], again["device_token"]) == (False, device, token)
    assert device_count(platform, admin.org) >= 1
    devices = [d["id"] for d in admin.get("/api/devices?limit=100").json()["result"]]
    assert devices.count(device) == 1


def test_every_refusal_creates_nothing(platform: RunningEmulator) -> None:
    admin = signin(platform)
    registration = register(admin)
    external, key = registration["external_id"], registration["external_key"]
    before = device_count(platform, admin.org)
    refusals = [
        (bootstrap(platform, external, None), 401, "authorization header missing"),
        (httpx.get(f"{platform.base_url}/bootstrap/{external}", timeout=30,
                   headers={"authorization": f"Bearer {key}"}), 401, "Bootstrap <external key>"),
        (bootstrap(platform, external, "wrong-key-0123456789"), 403, "wrong external key"),
        (bootstrap(platform, "SN-nobody-has-this", key), 404, "no bootstrap registration"),
        (bootstrap(platform, "bad%20id", key), 404, "no bootstrap registration"),
    ]  # fmt: skip
    for answer, status, message in refusals:
        assert answer.status_code == status, answer.text
        assert message in answer.json()["error"]["message"]
    assert admin.patch(f"/api/bootstrap/{external}", json={"enabled": False}).status_code == 200
    disabled = bootstrap(platform, external, key)
    assert disabled.status_code == 403 and "disabled" in disabled.text
    assert device_count(platform, admin.org) == before
    assert admin.get(f"/api/bootstrap/{external}").json()["device_id"] is None


def test_rotation_cuts_the_old_key_off(platform: RunningEmulator) -> None:
    admin = signin(platform)
    registration = register(admin)
    external, old = registration["external_id"], registration["external_key"]
    device = bootstrap(platform, external, old).json()["device_id"]
    rotated = admin.post(f"/api/bootstrap/{external}/key/rotate")
    assert rotated.status_code == 200 and rotated.json()["key_version"] == 2
    assert bootstrap(platform, external, old).status_code == 403
    chosen = admin.post(f"/api/bootstrap/{external}/key/rotate",
                        json={"external_key": "my-own-external-key-01"})  # fmt: skip
    assert chosen.json() == {"external_key": "my-own-external-key-01", "key_version": 3}
    assert bootstrap(platform, external, rotated.json()["external_key"]).status_code == 403
    again = bootstrap(platform, external, "my-own-external-key-01")
    assert again.status_code == 200 and again.json()["device_id"] == device


def test_guessing_is_slowed_and_the_right_key_waits_too(platform: RunningEmulator) -> None:
    admin = signin(platform)
    registration = register(admin)
    external, key = registration["external_id"], registration["external_key"]
    statuses = [bootstrap(platform, external, f"guess-{n:016d}").status_code for n in range(6)]
    # 5 failures spend the budget; the 6th guess is 403 only if the five straddled two windows
    # (the window before weighs a little less than 1 then)
    assert statuses[:5] == [403] * 5 and statuses[5] in (403, 429)
    throttled = bootstrap(platform, external, key)
    assert throttled.status_code == 429, throttled.text
    assert 1 <= int(throttled.headers["retry-after"]) <= 301
    assert throttled.json()["error"]["code"] == "resource_exhausted"
    log = (platform.data_dir / "logs" / "functions.log").read_text(errors="replace")
    refused = f"bootstrap of '{external}' refused: wrong external key (failure "
    assert log.count(refused) >= 5 and "of 5 per 300 s)" in log


def test_admin_routes_belong_to_admins_of_the_organisation(platform: RunningEmulator) -> None:
    admin = signin(platform)
    registration = register(admin)
    external = registration["external_id"]
    other = foreign_admin(platform)
    for method, path, body in (("GET", f"/api/bootstrap/{external}", None),
                               ("PATCH", f"/api/bootstrap/{external}", {"enabled": False}),
                               ("POST", f"/api/bootstrap/{external}/key/rotate", None),
                               ("DELETE", f"/api/bootstrap/{external}", None)):  # fmt: skip
        assert other.call(method, path, json=body).status_code == 404
    listed = [r["external_id"] for r in other.get("/api/bootstrap").json()["items"]]
    assert external not in listed
    taken = other.post("/api/bootstrap", json={"external_id": external})
    assert taken.status_code == 409  # external ids are unique across organisations
    username, password = f"m-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    admin.post("/api/users", json={"username": username, "password": password, "role": "member"})
    member = signin(platform, username, password)
    forbidden = member.get("/api/bootstrap")
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["error"]["message"]
    assert admin.delete(f"/api/bootstrap/{external}").status_code == 204
    assert admin.get(f"/api/bootstrap/{external}").status_code == 404
    assert bootstrap(platform, external, registration["external_key"]).status_code == 404
