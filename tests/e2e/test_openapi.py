"""The HTTP API of a running emulator against its own OpenAPI document: every operation is called
(management, ingest, data, device control), every request and response is validated with
openapi-core, errors included."""

from __future__ import annotations

import httpx
import orjson
import pytest

from emulator.mosquitto import Broker
from functions.openapi.service import document
from tests.e2e.provisioning import foreign_admin
from tests.support.api import signed_in, unique_name, until_status
from tests.support.broker import MqttClient
from tests.support.emulator import RunningEmulator
from tests.support.openapi import CheckedClient
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_served_document_is_the_one_in_the_repository(platform: RunningEmulator) -> None:
    answer = httpx.get(f"{platform.base_url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    assert answer.json() == document()


def test_every_operation_answers_as_described(platform: RunningEmulator) -> None:
    api = CheckedClient(platform.base_url, document())
    admin = api.call(
        "POST",
        "/api/users/signin",
        json={"username": "admin", "password": platform.admin_password},
    ).json()["token"]

    # platform and public documents
    api.call("GET", "/openapi.json")
    api.call("GET", "/.well-known/jwks.json")
    api.call("GET", "/api/status")

    # sign-in errors
    assert (
        api.call(
            "POST", "/api/users/signin", json={"username": "admin", "password": "wrong one"}
        ).status_code
        == 403
    )
    missing = api.call("POST", "/api/users/signin", json={"username": "x"}, valid_request=False)
    assert missing.status_code == 400
    as_form = api.call(
        "POST",
        "/api/users/signin",
        content=b"username=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
        valid_request=False,
    )
    assert as_form.status_code == 415
    huge = api.call(
        "POST",
        "/api/users/signin",
        json={"username": "admin", "password": "x" * 70_000},
        valid_request=False,
    )
    assert huge.status_code == 413

    # users
    username = unique_name("oas")
    created = api.call(
        "POST", "/api/users", token=admin, json={"username": username, "password": "long enough"}
    )
    assert created.status_code == 201
    user = created.json()
    conflict = api.call(
        "POST", "/api/users", token=admin, json={"username": username, "password": "long enough"}
    )
    assert conflict.status_code == 409
    assert api.call("GET", "/api/users", token=admin, params={"limit": 1}).status_code == 200
    assert api.call("GET", "/api/users/self", token=admin).status_code == 200
    assert api.call("GET", f"/api/users/{user['id']}", token=admin).status_code == 200
    member = signed_in(platform.base_url, username, "long enough")
    assert api.call("GET", "/api/users", token=member).status_code == 403
    assert api.call("GET", "/api/users/self", valid_request=False).status_code == 401
    changed = api.call(
        "PATCH",
        f"/api/users/{user['id']}",
        token=admin,
        json={"password": "another long one"},
    )
    assert changed.status_code == 200
    bad_limit = api.call("GET", "/api/users", token=admin, params={"limit": 0}, valid_request=False)
    assert bad_limit.status_code == 400

    # organisation
    org = api.call("GET", "/api/orgs/self", token=admin).json()
    assert (
        api.call("PATCH", "/api/orgs/self", token=admin, json={"name": "renamed"}).status_code
        == 200
    )
    assert (
        api.call("PATCH", "/api/orgs/self", token=admin, json={"name": org["name"]}).status_code
        == 200
    )

    # devices and their keys
    device = api.call(
        "POST", "/api/devices/", token=admin, json={"name": unique_name("dev"), "description": "d"}
    ).json()["result"]
    one = f"/api/devices/{device['id']}"
    assert api.call("GET", "/api/devices", token=admin, params={"limit": 2}).status_code == 200
    assert api.call("GET", one, token=admin).status_code == 200
    assert api.call("PATCH", one, token=admin, json={"description": "roof"}).status_code == 200
    assert api.call("GET", one + "/key", token=admin).status_code == 200
    assert api.call("POST", one + "/key/rotate", token=admin).status_code == 200

    # sensors
    sensor = api.call(
        "POST",
        one + "/sensors/",
        token=admin,
        json={"name": "temp", "description": "t", "mapping": '{"type":"double"}'},
    ).json()
    nested = api.call(
        "POST",
        one + "/sensors",
        token=admin,
        json={"name": "pressure", "mapping": {"type": "integer", "unit": "Pa"}, "path": "a/b"},
    )
    assert nested.status_code == 201
    duplicate = api.call(
        "POST", one + "/sensors", token=admin, json={"name": "temp", "mapping": {"type": "long"}}
    )
    assert duplicate.status_code == 409
    sensor_path = f"{one}/sensors/{sensor['id']}"
    assert api.call("GET", one + "/sensors", token=admin, params={"path": "a/b"}).status_code == 200
    assert api.call("GET", sensor_path, token=admin).status_code == 200
    assert api.call("PATCH", sensor_path, token=admin, json={"path": "c"}).status_code == 200

    # consumers, grants and keys
    consumer = api.call(
        "POST", "/api/consumers", token=admin, json={"name": unique_name("app")}
    ).json()
    cpath = f"/api/consumers/{consumer['id']}"
    assert api.call("GET", "/api/consumers", token=admin).status_code == 200
    assert api.call("GET", cpath, token=admin).status_code == 200
    assert api.call("PATCH", cpath, token=admin, json={"description": "reader"}).status_code == 200
    grant = {"device": device["id"], "sensor": sensor["id"]}
    assert api.call("POST", cpath + "/sensors", token=admin, json=grant).status_code == 200
    assert api.call("GET", cpath + "/key", token=admin).status_code == 200
    assert api.call("POST", cpath + "/key/rotate", token=admin).status_code == 200
    revoke = f"{cpath}/sensors/{device['id']}/{sensor['id']}"
    assert api.call("DELETE", revoke, token=admin).status_code == 200
    assert api.call("DELETE", revoke, token=admin).status_code == 404

    # telemetry from the device, its data, and device control
    device_token = api.call("GET", one + "/key", token=admin).json()["token"]  # after rotation
    reading = {"sensor_id": sensor["id"], "timestamp": 1_790_000_000, "value": 21.5}
    assert api.call("POST", "/ingest", token=device_token, json=[reading]).status_code == 200
    senml = orjson.dumps([{"n": "temp", "v": 22.0, "t": 1_790_000_001}])
    at_root = api.call(
        "POST",
        "/",
        token=device_token,
        content=senml,
        headers={"content-type": "application/senml+json"},
    )
    assert at_root.status_code == 200
    assert api.call("POST", "/ingest", token=admin, json=reading).status_code == 403
    unknown = {**reading, "sensor_id": "0" * 20}
    assert api.call("POST", "/ingest", token=device_token, json=unknown).status_code == 403
    data = sensor_path + "/data"
    stored = eventually(
        lambda: api.call("GET", data, token=admin, params={"from": "1790000000s"}),
        lambda answer: len(answer.json()["data"]) == 2,
        timeout=30,
    )
    assert len(stored.json()["data"]) == 2
    hourly = {"agg": "mean", "every": "1h", "limit": 10, "order": "desc"}
    assert api.call("GET", data, token=admin, params=hourly).status_code == 200
    assert api.call("GET", data, token=admin, params={"format": "csv"}).status_code == 200
    no_every = api.call("GET", data, token=admin, params={"agg": "mean"}, valid_request=False)
    assert no_every.status_code == 400
    assert api.call("GET", data + "/latest", token=admin).status_code == 200
    assert api.call("GET", one + "/data/latest", token=admin).status_code == 200
    assert api.call("GET", one + "/config", token=admin).status_code == 200
    config = api.call("PUT", one + "/config", token=admin, json={"config": {"rate": 5}})
    assert config.status_code == 200 and config.json()["version"] == 1
    stale = api.call("PUT", one + "/config", token=admin, json={"config": {}, "version": 0})
    assert stale.status_code == 412
    assert api.call("GET", one + "/state", token=admin).status_code == 404  # no report yet
    host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
    client = MqttClient(Broker([], host, int(port), 0, {}), device["id"], device_token)
    assert client.wait_connected(), client.connect_reason
    assert client.publish(f"devices/{device['id']}/state", b'{"config_version": 1}') == 0
    state = until_status(lambda: api.call("GET", one + "/state", token=admin), 200, timeout=30)
    assert state.status_code == 200
    command = api.call(
        "POST",
        one + "/commands/reboot",
        token=admin,
        content=b"now",
        headers={"content-type": "text/plain"},
    )
    assert command.status_code == 200
    client.close()

    # live streams of the sensor and the device (the first chunk: the SSE retry line)
    status, first = api.stream(sensor_path + "/stream", token=admin)
    assert (status, first[:7]) == (200, b"retry: ")
    assert api.stream(one + "/stream", token=admin)[0] == 200
    assert api.stream(one + "/stream", token=device_token)[0] == 403
    bad_cursor = api.stream(sensor_path + "/stream", token=admin, headers={"last-event-id": "x"})
    assert bad_cursor[0] == 400

    # bootstrap: an admin's registration, the device's first contact
    external = unique_name("SN")
    registration = api.call(
        "POST", "/api/bootstrap", token=admin,
        json={"external_id": external, "config": {"every_s": 5},
              "sensors": [{"name": "t", "mapping": {"type": "double"}}]},
    )  # fmt: skip
    assert registration.status_code == 201
    key = registration.json()["external_key"]
    registered = f"/api/bootstrap/{external}"
    assert api.call("GET", "/api/bootstrap", token=admin).status_code == 200
    assert api.call("GET", registered, token=admin).status_code == 200
    assert api.call("PATCH", registered, token=admin, json={"name": "sn"}).status_code == 200
    assert api.call("GET", registered, token=member).status_code == 403
    taken = api.call("POST", "/api/bootstrap", token=admin, json={"external_id": external})
    assert taken.status_code == 409
    device_side = f"/bootstrap/{external}"
    wrong = api.call("GET", device_side, headers={"authorization": "Bootstrap wrong-key-123456"})
    assert wrong.status_code == 403
    first_contact = api.call("GET", device_side, headers={"authorization": f"Bootstrap {key}"})
    assert first_contact.status_code == 200 and first_contact.json()["created"] is True
    assert api.call("GET", device_side, valid_request=False).status_code == 401
    rotated = api.call("POST", registered + "/key/rotate", token=admin)
    assert rotated.status_code == 200
    assert api.call("DELETE", registered, token=admin).status_code == 204
    assert api.call("DELETE", f"/api/devices/{first_contact.json()['device_id']}",
                    token=admin).status_code == 204  # fmt: skip

    # another organisation sees none of it
    foreign = foreign_admin(platform).token
    for path in (one, sensor_path, cpath, f"/api/users/{user['id']}"):
        assert api.call("GET", path, token=foreign).status_code == 404

    # deletions
    assert api.call("DELETE", cpath, token=admin).status_code == 204
    assert api.call("DELETE", sensor_path, token=admin).status_code == 204
    assert api.call("DELETE", one, token=admin).status_code == 204
    assert api.call("GET", one, token=admin).status_code == 404
    assert api.call("DELETE", f"/api/users/{user['id']}", token=admin).status_code == 204

    operations = {
        (method, path)
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    }
    succeeded = {(m, p) for m, p, status in api.seen if 200 <= status < 300}
    assert operations - succeeded == set()
