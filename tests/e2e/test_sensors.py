"""Sensors through the running emulator: CRUD with mappings as text or object, tree paths and
unique names per folder, body errors naming the field, and who may touch them."""

from __future__ import annotations

import pytest

from tests.e2e.provisioning import Api, foreign_admin, signin
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    return signin(platform)


@pytest.fixture
def device(admin: Api) -> str:
    answer = admin.post("/api/devices/", json={"name": "sensor-host"})
    assert answer.status_code == 201
    return str(answer.json()["result"]["id"])


def test_crud_round(admin: Api, device: str) -> None:
    base = f"/api/devices/{device}/sensors"
    created = admin.post(
        f"{base}/",
        json={"name": "oil", "description": "engine oil", "mapping": '{"type":"double"}',
              "path": "engine"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    sensor = created.json()
    assert created.headers["location"] == f"{base}/{sensor['id']}"
    assert (sensor["device_id"], sensor["tree_path"], sensor["mapping"]) == (
        device, "engine/oil", {"type": "double", "unit": None},
    )  # fmt: skip
    assert admin.get(f"{base}/{sensor['id']}").json() == sensor
    listed = admin.get(base).json()
    assert [s["id"] for s in listed["items"]] == [sensor["id"]] and listed["next"] is None

    changed = admin.patch(
        f"{base}/{sensor['id']}", json={"mapping": {"type": "integer", "unit": "Cel"}}
    )
    assert changed.status_code == 200
    assert changed.json()["mapping"] == {"type": "long", "unit": "Cel"}
    assert changed.json()["name"] == "oil"

    assert admin.delete(f"{base}/{sensor['id']}").status_code == 204
    assert admin.get(f"{base}/{sensor['id']}").status_code == 404
    assert admin.get(base).json()["items"] == []


def test_names_are_unique_per_folder(admin: Api, device: str) -> None:
    base = f"/api/devices/{device}/sensors"
    body = {"name": "pressure", "mapping": {"type": "double", "unit": "kPa"}}
    assert admin.post(base, json={**body, "path": "front/left"}).status_code == 201
    assert admin.post(base, json={**body, "path": "front/right"}).status_code == 201
    assert admin.post(base, json=body).status_code == 201  # the root folder
    duplicate = admin.post(base, json={**body, "path": "/front/left/"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["field"] == "name"
    left = admin.get(base, params={"path": "front/left"}).json()["items"]
    assert [s["tree_path"] for s in left] == ["front/left/pressure"]
    right = admin.get(base, params={"path": "front/right"}).json()["items"][0]
    moved = admin.patch(f"{base}/{right['id']}", json={"path": "front/left"})
    assert moved.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mapping": {"type": "double"}}, "name"),
        ({"name": "a/b", "mapping": {"type": "double"}}, "name"),
        ({"name": "s"}, "mapping"),
        ({"name": "s", "mapping": "{not json"}, "mapping"),
        ({"name": "s", "mapping": "[]"}, "mapping"),
        ({"name": "s", "mapping": {"unit": "m"}}, "mapping.type"),
        ({"name": "s", "mapping": '{"type":"decimal"}'}, "mapping.type"),
        ({"name": "s", "mapping": {"type": "double", "unit": ""}}, "mapping.unit"),
        ({"name": "s", "mapping": {"type": "double"}, "path": "a//b"}, "path"),
        ({"name": "s", "mapping": {"type": "double"}, "path": 3}, "path"),
        ({"name": "s", "mapping": {"type": "double"}, "sensor_id": "x"}, "sensor_id"),
    ],
)
def test_bad_bodies_name_the_field(admin: Api, device: str, body: dict, field: str) -> None:
    answer = admin.post(f"/api/devices/{device}/sensors/", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == field


def test_oversized_bodies_are_413(admin: Api, device: str) -> None:
    body = {"name": "s", "mapping": {"type": "double"}, "description": "x" * 70_000}
    assert admin.post(f"/api/devices/{device}/sensors/", json=body).status_code == 413


def test_who_may_touch_sensors(admin: Api, device: str, platform: RunningEmulator) -> None:
    base = f"/api/devices/{device}/sensors"
    sensor = admin.post(base, json={"name": "s", "mapping": {"type": "double"}}).json()["id"]
    device_token = admin.get(f"/api/devices/{device}/key").json()["token"]
    consumer = admin.post("/api/consumers", json={"name": "reader"}).json()["id"]
    assert admin.post(
        f"/api/consumers/{consumer}/sensors", json={"device": device, "sensor": sensor}
    ).is_success
    consumer_token = admin.get(f"/api/consumers/{consumer}/key").json()["token"]
    foreign = foreign_admin(platform)
    routes = [
        ("POST", base, {"name": "t", "mapping": {"type": "double"}}),
        ("GET", base, None),
        ("GET", f"{base}/{sensor}", None),
        ("PATCH", f"{base}/{sensor}", {"description": "d"}),
        ("DELETE", f"{base}/{sensor}", None),
    ]
    nobody = Api(platform.base_url)
    for method, route, body in routes:
        kwargs = {"json": body} if body is not None else {}
        assert nobody.call(method, route, **kwargs).status_code == 401
        assert nobody.with_token(device_token).call(method, route, **kwargs).status_code == 403
        # a consumer granted this very sensor still cannot read or change it here
        assert nobody.with_token(consumer_token).call(method, route, **kwargs).status_code == 403
        assert foreign.call(method, route, **kwargs).status_code == 404
    assert admin.get(f"{base}/{sensor}").status_code == 200


def test_deleting_a_sensor_takes_it_out_of_grants(admin: Api, device: str) -> None:
    base = f"/api/devices/{device}/sensors"
    sensor = admin.post(base, json={"name": "g", "mapping": {"type": "double"}}).json()["id"]
    consumer = admin.post("/api/consumers", json={"name": "grantee"}).json()["id"]
    grant = {"device": device, "sensor": sensor}
    assert admin.post(f"/api/consumers/{consumer}/sensors", json=grant).status_code == 200
    assert admin.delete(f"{base}/{sensor}").status_code == 204
    assert admin.get(f"/api/consumers/{consumer}").json()["sensors"] == []
