"""Devices through the running emulator: CRUD, paging, keys and rotation, deletion, the
authorisation matrix, body errors, and MQTT logins that follow the device's key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from emulator.mosquitto import Broker
from tests.e2e.provisioning import Api, eventually, foreign_admin, revoked, signin, store_of
from tests.support.broker import MqttClient
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    return signin(platform)


@pytest.fixture(scope="module")
def member(platform: RunningEmulator, admin: Api) -> Api:
    username, password = f"member-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    created = admin.post(
        "/api/users", json={"username": username, "password": password, "role": "member"}
    )
    assert created.status_code == 201, created.text
    return signin(platform, username, password)


@pytest.fixture(scope="module")
def foreign(platform: RunningEmulator) -> Api:
    return foreign_admin(platform)


def create(api: Api, name: str = "pump", **extra: object) -> dict:
    answer = api.post("/api/devices/", json={"name": name, **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()["result"]


def test_crud_round(admin: Api) -> None:
    answer = admin.post("/api/devices/", json={"name": "boiler", "description": "cellar"})
    assert answer.status_code == 201
    device = answer.json()["result"]
    assert answer.headers["location"] == f"/api/devices/{device['id']}"
    assert (device["name"], device["description"], device["key_version"]) == (
        "boiler", "cellar", 1,
    )  # fmt: skip
    assert admin.get(f"/api/devices/{device['id']}").json() == {"result": device}

    changed = admin.patch(f"/api/devices/{device['id']}", json={"description": "roof"})
    assert changed.status_code == 200
    assert changed.json()["result"]["description"] == "roof"
    assert changed.json()["result"]["name"] == "boiler"

    assert admin.delete(f"/api/devices/{device['id']}").status_code == 204
    assert admin.get(f"/api/devices/{device['id']}").status_code == 404
    assert admin.delete(f"/api/devices/{device['id']}").status_code == 404


def test_listing_pages_through_every_device(admin: Api) -> None:
    made = {create(admin, f"page-{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = admin.get("/api/devices", params=params)
        assert page.status_code == 200
        assert len(page.json()["result"]) <= 2
        seen += [device["id"] for device in page.json()["result"]]
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert made <= set(seen) and len(seen) == len(set(seen))


def reading(sensor_id: str) -> dict:
    return {"sensor_id": sensor_id, "timestamp": 1_790_000_000, "value": 21.5}


def test_the_key_rotates_and_old_tokens_are_refused(admin: Api, platform: RunningEmulator) -> None:
    device = create(admin, "rotating")
    path = f"/api/devices/{device['id']}"
    sensor = admin.post(f"{path}/sensors", json={"name": "t", "mapping": {"type": "double"}})
    first = admin.get(f"{path}/key").json()
    assert admin.get(f"{path}/key").json() == first
    old = Api(platform.base_url, first["token"])
    assert old.post("/ingest", json=reading(sensor.json()["id"])).status_code == 200
    assert old.get(path).status_code == 403  # a device token is not for the management API

    rotated = admin.post(f"{path}/key/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["key_version"] == 2 and rotated.json()["token"] != first["token"]
    assert admin.get(f"{path}/key").json() == rotated.json()
    refused = eventually(lambda: old.post("/ingest", json=reading(sensor.json()["id"])), revoked)
    assert refused.json()["error"]["message"] == "token revoked: the device key was rotated"
    new = old.with_token(rotated.json()["token"])
    assert new.post("/ingest", json=reading(sensor.json()["id"])).status_code == 200


def test_deleting_a_device_removes_its_sensors_and_revokes_it(
    admin: Api, platform: RunningEmulator
) -> None:
    device = create(admin, "doomed")
    path = f"/api/devices/{device['id']}"
    sensor = admin.post(f"{path}/sensors/", json={"name": "t", "mapping": {"type": "double"}})
    assert sensor.status_code == 201
    token = admin.get(f"{path}/key").json()["token"]
    assert admin.delete(path).status_code == 204
    assert admin.get(f"{path}/sensors/{sensor.json()['id']}").status_code == 404
    store = store_of(platform)
    assert store.get(f"device_index/{device['id']}") is None
    stored = f"orgs/{admin.org}/devices/{device['id']}"
    assert store.get(stored) is None
    assert store.get(f"{stored}/sensors/{sensor.json()['id']}") is None
    device_api = Api(platform.base_url, token)
    gone = eventually(
        lambda: device_api.post("/ingest", json=reading(sensor.json()["id"])), revoked
    )
    assert gone.json()["error"]["message"] == "token revoked: the device no longer exists"


def test_authorisation_matrix(
    admin: Api, member: Api, foreign: Api, platform: RunningEmulator
) -> None:
    device = create(admin, "guarded")
    path = f"/api/devices/{device['id']}"
    device_token = admin.get(f"{path}/key").json()["token"]
    consumer = admin.post("/api/consumers/", json={"name": "reader"}).json()
    consumer_token = admin.get(f"/api/consumers/{consumer['id']}/key").json()["token"]
    routes = [
        ("POST", "/api/devices/", {"name": "x"}),
        ("GET", "/api/devices/", None),
        ("GET", path, None),
        ("PATCH", path, {"name": "y"}),
        ("GET", f"{path}/key", None),
        ("POST", f"{path}/key/rotate", None),
        ("DELETE", path, None),
    ]
    nobody = Api(platform.base_url)
    for method, route, body in routes:
        kwargs = {"json": body} if body is not None else {}
        assert nobody.call(method, route, **kwargs).status_code == 401, route
        for scheme in ("Basic abc", "Bearer"):
            answer = nobody.call(method, route, headers={"authorization": scheme}, **kwargs)
            assert answer.status_code == 401, (route, scheme)
        assert nobody.with_token("not.a.jwt").call(method, route, **kwargs).status_code == 403
        by_device = nobody.with_token(device_token).call(method, route, **kwargs)
        assert by_device.status_code == 403
        assert "device token cannot call the management API" in by_device.text
        by_consumer = nobody.with_token(consumer_token).call(method, route, **kwargs)
        assert by_consumer.status_code == 403, route
        if route != "/api/devices/":
            assert foreign.call(method, route, **kwargs).status_code == 404, route
    assert foreign.get("/api/devices").json()["result"] == []
    # a member manages devices like an admin; the last route deletes the device
    for method, route, body in routes:
        kwargs = {"json": body} if body is not None else {}
        assert member.call(method, route, **kwargs).status_code in {200, 201, 204}, route
    assert admin.get(path).status_code == 404


def test_lower_case_header_and_scheme_are_accepted(admin: Api) -> None:
    assert admin.get("/api/devices", headers={"authorization": f"bearer {admin.token}"}).is_success


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field"),
    [
        (b'{"name": ', "application/json", 400, None),
        (b"[1, 2]", "application/json", 400, "body"),
        (b"{}", "application/json", 400, "name"),
        (b'{"name": ""}', "application/json", 400, "name"),
        (b'{"name": 1}', "application/json", 400, "name"),
        (b'{"name": "a", "description": 2}', "application/json", 400, "description"),
        (b'{"name": "a", "owner": "me"}', "application/json", 400, "owner"),
        (b"name=a", "application/x-www-form-urlencoded", 415, None),
        (b"", "application/json", 400, None),
    ],
)
def test_bad_bodies(
    admin: Api, content: bytes, content_type: str, status: int, field: str | None
) -> None:
    answer = admin.post("/api/devices/", content=content, headers={"content-type": content_type})
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["status"] == status
    assert error.get("field") == field


def test_bad_queries_name_the_parameter(admin: Api) -> None:
    for params, field in (({"limit": "0"}, "limit"), ({"cursor": "%%%"}, "cursor")):
        answer = admin.get("/api/devices", params=params)
        assert answer.status_code == 400 and answer.json()["error"]["field"] == field


def test_oversized_bodies_are_413(admin: Api) -> None:
    answer = admin.post("/api/devices/", json={"name": "big", "description": "x" * 70_000})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_unknown_methods_are_405(admin: Api) -> None:
    answer = admin.call("PUT", "/api/devices/")
    assert answer.status_code == 405 and "POST" in answer.headers["allow"]


@pytest.fixture(scope="module")
def mqtt(platform: RunningEmulator) -> Iterator[Broker]:
    address = platform.endpoints.get("mqtt")
    if not address:
        pytest.skip("the platform runs without Mosquitto (MQTT is off)")
    host, port = str(address).rsplit(":", 1)
    yield Broker([], host, int(port), 0, {})


def test_the_mqtt_login_is_the_device_token(admin: Api, mqtt: Broker) -> None:
    device = create(admin, "mqtt-device")
    path = f"/api/devices/{device['id']}"
    token = admin.get(f"{path}/key").json()["token"]
    client = MqttClient(mqtt, device["id"], token)
    assert client.wait_connected()
    assert client.publish(f"devices/{device['id']}/state", b"{}") < 128
    client.close()

    rotated = admin.post(f"{path}/key/rotate").json()["token"]
    stale = MqttClient(mqtt, device["id"], token)
    assert not stale.wait_connected()
    stale.close()
    fresh = MqttClient(mqtt, device["id"], rotated)
    assert fresh.wait_connected()
    fresh.close()

    assert admin.delete(path).status_code == 204
    deleted = MqttClient(mqtt, device["id"], rotated)
    assert not deleted.wait_connected()
    deleted.close()
