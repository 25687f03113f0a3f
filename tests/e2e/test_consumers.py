"""Consumers through the running emulator: CRUD, grants and revocations, keys and rotation,
admins only, and consumer tokens that change nothing."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.provisioning import Api, eventually, foreign_admin, revoked, signin
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


@pytest.fixture
def sensor(admin: Api) -> tuple[str, str]:
    device = admin.post("/api/devices", json={"name": "source"}).json()["result"]["id"]
    answer = admin.post(
        f"/api/devices/{device}/sensors", json={"name": "s", "mapping": {"type": "double"}}
    )
    return device, answer.json()["id"]


def test_crud_round(admin: Api) -> None:
    created = admin.post("/api/consumers/", json={"name": "dashboard", "description": "wall"})
    assert created.status_code == 201, created.text
    consumer = created.json()
    assert created.headers["location"] == f"/api/consumers/{consumer['id']}"
    assert (consumer["name"], consumer["sensors"], consumer["key_version"]) == ("dashboard", [], 1)
    path = f"/api/consumers/{consumer['id']}"
    assert admin.get(path).json() == consumer
    assert consumer["id"] in {
        c["id"] for c in admin.get("/api/consumers?limit=100").json()["items"]
    }
    assert admin.patch(path, json={"name": "board"}).json()["name"] == "board"
    assert admin.patch(path, json={"name": ""}).json()["error"]["field"] == "name"
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404


def test_grant_and_revoke(admin: Api, sensor: tuple[str, str]) -> None:
    device, sensor_id = sensor
    consumer = admin.post("/api/consumers", json={"name": "reader"}).json()["id"]
    grants = f"/api/consumers/{consumer}/sensors"
    granted = admin.post(grants, json={"device": device, "sensor": sensor_id})
    assert granted.status_code == 200
    assert granted.json()["sensors"] == [f"{device}/{sensor_id}"]
    again = admin.post(grants, json={"device": device, "sensor": sensor_id})
    assert again.json()["sensors"] == [f"{device}/{sensor_id}"]
    unknown = admin.post(grants, json={"device": device, "sensor": "0" * 20})
    assert unknown.status_code == 404
    missing = admin.post(grants, json={"device": device})
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "sensor"

    revoked_answer = admin.delete(f"{grants}/{device}/{sensor_id}")
    assert revoked_answer.status_code == 200 and revoked_answer.json()["sensors"] == []
    assert admin.delete(f"{grants}/{device}/{sensor_id}").status_code == 404


def test_keys_rotate_and_deletion_revokes(admin: Api, platform: RunningEmulator) -> None:
    consumer = admin.post("/api/consumers", json={"name": "keyed"}).json()["id"]
    path = f"/api/consumers/{consumer}"
    first = admin.get(f"{path}/key").json()
    assert admin.get(f"{path}/key").json() == first
    old = Api(platform.base_url, first["token"])
    rotated = admin.post(f"{path}/key/rotate").json()
    assert rotated["key_version"] == 2 and rotated["token"] != first["token"]
    answer = eventually(lambda: old.get("/api/devices"), revoked)
    assert answer.json()["error"]["message"] == "token revoked: the consumer key was rotated"
    new = old.with_token(rotated["token"])
    assert admin.delete(path).status_code == 204
    gone = eventually(lambda: new.get("/api/devices"), revoked)
    assert gone.json()["error"]["message"] == "token revoked: the consumer no longer exists"


def test_only_admins_manage_consumers(
    admin: Api, member: Api, platform: RunningEmulator, sensor: tuple[str, str]
) -> None:
    device, sensor_id = sensor
    consumer = admin.post("/api/consumers", json={"name": "guarded"}).json()["id"]
    path = f"/api/consumers/{consumer}"
    consumer_token = admin.get(f"{path}/key").json()["token"]
    device_token = admin.get(f"/api/devices/{device}/key").json()["token"]
    foreign = foreign_admin(platform)
    routes = [
        ("POST", "/api/consumers", {"name": "x"}),
        ("GET", "/api/consumers", None),
        ("GET", path, None),
        ("PATCH", path, {"name": "y"}),
        ("POST", f"{path}/sensors", {"device": device, "sensor": sensor_id}),
        ("DELETE", f"{path}/sensors/{device}/{sensor_id}", None),
        ("GET", f"{path}/key", None),
        ("POST", f"{path}/key/rotate", None),
        ("DELETE", path, None),
    ]
    nobody = Api(platform.base_url)
    for method, route, body in routes:
        kwargs = {"json": body} if body is not None else {}
        assert nobody.call(method, route, **kwargs).status_code == 401, route
        by_member = member.call(method, route, **kwargs)
        assert by_member.status_code == 403, route
        assert "needs an organisation admin" in by_member.text
        assert nobody.with_token(device_token).call(method, route, **kwargs).status_code == 403
        assert nobody.with_token(consumer_token).call(method, route, **kwargs).status_code == 403
        if route != "/api/consumers":
            assert foreign.call(method, route, **kwargs).status_code == 404, route
    assert admin.get(path).json()["name"] == "guarded"


def test_a_consumer_token_changes_nothing(
    admin: Api, platform: RunningEmulator, sensor: tuple[str, str]
) -> None:
    device, sensor_id = sensor
    consumer = admin.post("/api/consumers", json={"name": "read-only"}).json()["id"]
    grant = {"device": device, "sensor": sensor_id}
    admin.post(f"/api/consumers/{consumer}/sensors", json=grant)
    token = admin.get(f"/api/consumers/{consumer}/key").json()["token"]
    reader = Api(platform.base_url, token)
    changes = [
        ("POST", "/api/devices", {"name": "x"}),
        ("PATCH", f"/api/devices/{device}", {"name": "x"}),
        ("DELETE", f"/api/devices/{device}", None),
        ("POST", f"/api/devices/{device}/key/rotate", None),
        ("POST", f"/api/devices/{device}/sensors", {"name": "x", "mapping": {"type": "double"}}),
        ("PATCH", f"/api/devices/{device}/sensors/{sensor_id}", {"name": "x"}),
        ("DELETE", f"/api/devices/{device}/sensors/{sensor_id}", None),
        ("POST", f"/api/consumers/{consumer}/key/rotate", None),
        ("DELETE", f"/api/consumers/{consumer}", None),
        ("POST", "/api/users", {"username": "x", "password": "y" * 12}),
    ]
    for method, route, body in changes:
        kwargs = {"json": body} if body is not None else {}
        assert reader.call(method, route, **kwargs).status_code == 403, route
    assert admin.get(f"/api/devices/{device}/sensors/{sensor_id}").json()["name"] == "s"
    assert admin.get(f"/api/consumers/{consumer}").json()["key_version"] == 1
