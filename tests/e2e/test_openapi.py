"""The HTTP API of a running emulator against its own OpenAPI document, one test per area (public
documents, sign-in, users, organisation, devices, sensors, consumers, ingest and data, device
control, streams, bootstrap, tenancy, deletions): every request and response is validated with
openapi-core, errors included, and the last test checks that every documented operation was
called and answered with success somewhere. The areas share one client and the resources the
module fixtures create; a new area is one more `test_` function here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
_passed: set[str] = set()  # area tests of this module that passed in this session


@pytest.fixture(autouse=True)
def _record_passing(request: pytest.FixtureRequest) -> Iterator[None]:
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:  # the call's report is in before teardown
        _passed.add(request.node.name)


@pytest.fixture(scope="module")
def api(platform: RunningEmulator) -> CheckedClient:
    """One validating client for the module: it records every (operation, status) it saw."""
    return CheckedClient(platform.base_url, document())


@pytest.fixture(scope="module")
def admin(api: CheckedClient, platform: RunningEmulator) -> str:
    answer = api.call(
        "POST", "/api/users/signin", json={"username": "admin", "password": platform.admin_password}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


@dataclass(frozen=True)
class Member:
    """A user the admin created, signed in."""

    id: str
    username: str
    token: str


@pytest.fixture(scope="module")
def member(api: CheckedClient, admin: str, platform: RunningEmulator) -> Member:
    username = unique_name("oas")
    body = {"username": username, "password": "long enough"}
    created = api.call("POST", "/api/users", token=admin, json=body)
    assert created.status_code == 201, created.text
    token = signed_in(platform.base_url, username, body["password"])
    return Member(created.json()["id"], username, token)


@pytest.fixture(scope="module")
def device(api: CheckedClient, admin: str) -> dict[str, Any]:
    body = {"name": unique_name("dev"), "description": "d"}
    created = api.call("POST", "/api/devices/", token=admin, json=body)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()["result"]
    return {**result, "path": f"/api/devices/{result['id']}"}


@pytest.fixture(scope="module")
def sensor(api: CheckedClient, admin: str, device: dict[str, Any]) -> dict[str, Any]:
    body = {"name": "temp", "description": "t", "mapping": '{"type":"double"}'}
    created = api.call("POST", device["path"] + "/sensors/", token=admin, json=body)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return {**result, "path": f"{device['path']}/sensors/{result['id']}"}


@pytest.fixture(scope="module")
def consumer(api: CheckedClient, admin: str) -> dict[str, Any]:
    created = api.call("POST", "/api/consumers", token=admin, json={"name": unique_name("app")})
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return {**result, "path": f"/api/consumers/{result['id']}"}


@pytest.fixture
def device_token(api: CheckedClient, admin: str, device: dict[str, Any]) -> str:
    """The device's current token (areas may have rotated its key)."""
    return str(api.call("GET", device["path"] + "/key", token=admin).json()["token"])


def test_the_served_document_is_the_one_in_the_repository(platform: RunningEmulator) -> None:
    answer = httpx.get(f"{platform.base_url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    assert answer.json() == document()


def test_public_documents(api: CheckedClient) -> None:
    for path in ("/openapi.json", "/.well-known/jwks.json", "/api/status"):
        assert api.call("GET", path).status_code == 200


def test_sign_in_errors(api: CheckedClient) -> None:
    wrong = api.call("POST", "/api/users/signin", json={"username": "admin", "password": "wrong"})
    assert wrong.status_code == 403
    missing = api.call("POST", "/api/users/signin", json={"username": "x"}, valid_request=False)
    assert missing.status_code == 400
    as_form = api.call(
        "POST", "/api/users/signin", content=b"username=x",
        headers={"content-type": "application/x-www-form-urlencoded"}, valid_request=False,
    )  # fmt: skip
    assert as_form.status_code == 415
    huge = {"username": "admin", "password": "x" * 70_000}
    assert api.call("POST", "/api/users/signin", json=huge, valid_request=False).status_code == 413


def test_users(api: CheckedClient, admin: str, member: Member) -> None:
    again = {"username": member.username, "password": "long enough"}
    assert api.call("POST", "/api/users", token=admin, json=again).status_code == 409
    assert api.call("GET", "/api/users", token=admin, params={"limit": 1}).status_code == 200
    assert api.call("GET", "/api/users/self", token=admin).status_code == 200
    assert api.call("GET", f"/api/users/{member.id}", token=admin).status_code == 200
    assert api.call("GET", "/api/users", token=member.token).status_code == 403
    assert api.call("GET", "/api/users/self", valid_request=False).status_code == 401
    password = {"password": "another long one"}
    changed = api.call("PATCH", f"/api/users/{member.id}", token=admin, json=password)
    assert changed.status_code == 200
    bad_limit = api.call("GET", "/api/users", token=admin, params={"limit": 0}, valid_request=False)
    assert bad_limit.status_code == 400


def test_organisation(api: CheckedClient, admin: str) -> None:
    org = api.call("GET", "/api/orgs/self", token=admin).json()
    renamed = api.call("PATCH", "/api/orgs/self", token=admin, json={"name": "renamed"})
    assert renamed.status_code == 200
    back = api.call("PATCH", "/api/orgs/self", token=admin, json={"name": org["name"]})
    assert back.status_code == 200


def test_devices_and_their_keys(api: CheckedClient, admin: str, device: dict[str, Any]) -> None:
    one = device["path"]
    assert api.call("GET", "/api/devices", token=admin, params={"limit": 2}).status_code == 200
    assert api.call("GET", one, token=admin).status_code == 200
    assert api.call("PATCH", one, token=admin, json={"description": "roof"}).status_code == 200
    assert api.call("GET", one + "/key", token=admin).status_code == 200
    assert api.call("POST", one + "/key/rotate", token=admin).status_code == 200


def test_sensors(
    api: CheckedClient, admin: str, device: dict[str, Any], sensor: dict[str, Any]
) -> None:
    one = device["path"]
    nested = {"name": "pressure", "mapping": {"type": "integer", "unit": "Pa"}, "path": "a/b"}
    assert api.call("POST", one + "/sensors", token=admin, json=nested).status_code == 201
    duplicate = {"name": "temp", "mapping": {"type": "long"}}
    assert api.call("POST", one + "/sensors", token=admin, json=duplicate).status_code == 409
    assert api.call("GET", one + "/sensors", token=admin, params={"path": "a/b"}).status_code == 200
    assert api.call("GET", sensor["path"], token=admin).status_code == 200
    assert api.call("PATCH", sensor["path"], token=admin, json={"path": "c"}).status_code == 200


def test_consumers_grants_and_keys(
    api: CheckedClient,
    admin: str,
    consumer: dict[str, Any],
    device: dict[str, Any],
    sensor: dict[str, Any],
) -> None:
    cpath = consumer["path"]
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


def test_ingest_and_data(
    api: CheckedClient,
    admin: str,
    device: dict[str, Any],
    sensor: dict[str, Any],
    device_token: str,
) -> None:
    reading = {"sensor_id": sensor["id"], "timestamp": 1_790_000_000, "value": 21.5}
    assert api.call("POST", "/ingest", token=device_token, json=[reading]).status_code == 200
    senml = orjson.dumps([{"n": "temp", "v": 22.0, "t": 1_790_000_001}])
    senml_type = {"content-type": "application/senml+json"}
    at_root = api.call("POST", "/", token=device_token, content=senml, headers=senml_type)
    assert at_root.status_code == 200
    assert api.call("POST", "/ingest", token=admin, json=reading).status_code == 403
    unknown = {**reading, "sensor_id": "0" * 20}
    assert api.call("POST", "/ingest", token=device_token, json=unknown).status_code == 403
    data = sensor["path"] + "/data"
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
    assert api.call("GET", device["path"] + "/data/latest", token=admin).status_code == 200


def test_device_control(
    api: CheckedClient,
    admin: str,
    device: dict[str, Any],
    device_token: str,
    platform: RunningEmulator,
) -> None:
    one = device["path"]
    assert api.call("GET", one + "/config", token=admin).status_code == 200
    config = api.call("PUT", one + "/config", token=admin, json={"config": {"rate": 5}})
    assert config.status_code == 200 and config.json()["version"] == 1
    stale = api.call("PUT", one + "/config", token=admin, json={"config": {}, "version": 0})
    assert stale.status_code == 412
    assert api.call("GET", one + "/state", token=admin).status_code == 404  # no report yet
    host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
    client = MqttClient(Broker([], host, int(port), 0, {}), device["id"], device_token)
    try:
        assert client.wait_connected(), client.connect_reason
        assert client.publish(f"devices/{device['id']}/state", b'{"config_version": 1}') == 0
        state = until_status(lambda: api.call("GET", one + "/state", token=admin), 200, 30)
        assert state.status_code == 200
        command = api.call(
            "POST", one + "/commands/reboot", token=admin, content=b"now",
            headers={"content-type": "text/plain"},
        )  # fmt: skip
        assert command.status_code == 200
    finally:
        client.close()


def test_live_streams(
    api: CheckedClient,
    admin: str,
    device: dict[str, Any],
    sensor: dict[str, Any],
    device_token: str,
) -> None:
    """The first chunk of a stream is the SSE retry line."""
    status, first = api.stream(sensor["path"] + "/stream", token=admin)
    assert (status, first[:7]) == (200, b"retry: ")
    assert api.stream(device["path"] + "/stream", token=admin)[0] == 200
    assert api.stream(device["path"] + "/stream", token=device_token)[0] == 403
    bad_cursor = api.stream(sensor["path"] + "/stream", token=admin, headers={"last-event-id": "x"})
    assert bad_cursor[0] == 400


def test_bootstrap(api: CheckedClient, admin: str, member: Member) -> None:
    """An admin's registration, then the device's first contact."""
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
    assert api.call("GET", registered, token=member.token).status_code == 403
    taken = api.call("POST", "/api/bootstrap", token=admin, json={"external_id": external})
    assert taken.status_code == 409
    device_side = f"/bootstrap/{external}"
    wrong = api.call("GET", device_side, headers={"authorization": "Bootstrap wrong-key-123456"})
    assert wrong.status_code == 403
    first_contact = api.call("GET", device_side, headers={"authorization": f"Bootstrap {key}"})
    assert first_contact.status_code == 200 and first_contact.json()["created"] is True
    assert api.call("GET", device_side, valid_request=False).status_code == 401
    assert api.call("POST", registered + "/key/rotate", token=admin).status_code == 200
    assert api.call("DELETE", registered, token=admin).status_code == 204
    created = f"/api/devices/{first_contact.json()['device_id']}"
    assert api.call("DELETE", created, token=admin).status_code == 204


def test_another_organisation_sees_none_of_it(
    api: CheckedClient,
    platform: RunningEmulator,
    member: Member,
    device: dict[str, Any],
    sensor: dict[str, Any],
    consumer: dict[str, Any],
) -> None:
    foreign = foreign_admin(platform).token
    for path in (device["path"], sensor["path"], consumer["path"], f"/api/users/{member.id}"):
        assert api.call("GET", path, token=foreign).status_code == 404


def test_deletions(
    api: CheckedClient,
    admin: str,
    member: Member,
    device: dict[str, Any],
    sensor: dict[str, Any],
    consumer: dict[str, Any],
) -> None:
    """The module's resources go last (the tests above share them)."""
    assert api.call("DELETE", consumer["path"], token=admin).status_code == 204
    assert api.call("DELETE", sensor["path"], token=admin).status_code == 204
    assert api.call("DELETE", device["path"], token=admin).status_code == 204
    assert api.call("GET", device["path"], token=admin).status_code == 404
    assert api.call("DELETE", f"/api/users/{member.id}", token=admin).status_code == 204


def test_rules_detectors_models_and_alerts(api: CheckedClient, platform: RunningEmulator) -> None:
    """In an organisation of its own (no evaluator has its rules cached yet)."""
    admin = str(foreign_admin(platform).token)
    device = api.call("POST", "/api/devices", token=admin, json={"name": "rules"}).json()["result"]
    sensor = api.call("POST", f"/api/devices/{device['id']}/sensors", token=admin,
                      json={"name": "t", "mapping": {"type": "double"}}).json()["id"]  # fmt: skip
    key = api.call("GET", f"/api/devices/{device['id']}/key", token=admin).json()["token"]
    model = api.call("POST", "/api/models", token=admin, json={"name": "m"})
    assert model.status_code == 201, model.text
    models = f"/api/models/{model.json()['id']}"
    uploaded = api.call("POST", f"{models}/versions", token=admin, content=_identity_model(),
                        headers={"content-type": "application/octet-stream"})  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    for path in ("/api/models", models, f"{models}/versions", f"{models}/versions/1"):
        assert api.call("GET", path, token=admin).status_code == 200
    body = {"name": "z", "device": device["id"], "sensor": sensor, "kind": "ewma"}
    detector = api.call("POST", "/api/detectors", token=admin, json=body)
    assert detector.status_code == 201, detector.text
    detectors = f"/api/detectors/{detector.json()['id']}"
    for path in ("/api/detectors", detectors):
        assert api.call("GET", path, token=admin).status_code == 200
    assert api.call("PATCH", detectors, token=admin, json={"threshold": 5}).status_code == 200
    body = {"name": "hot", "condition": "value > 5", "select": {"devices": [device["id"]]}}
    rule = api.call("POST", "/api/rules", token=admin, json=body)
    assert rule.status_code == 201, rule.text
    rules = f"/api/rules/{rule.json()['id']}"
    for path in ("/api/rules", rules, "/api/webhook-secret"):
        assert api.call("GET", path, token=admin).status_code == 200
    assert api.call("PATCH", rules, token=admin, json={"severity": "critical"}).status_code == 200
    assert api.call("POST", "/api/webhook-secret/rotate", token=admin).status_code == 200
    status, first = api.stream("/api/alerts/stream", token=admin)
    assert status == 200 and first.startswith(b"retry:")
    reading = {"sensor_id": sensor, "timestamp": 1_790_000_000, "value": 9.0}
    assert api.call("POST", "/ingest", token=key, json=reading).status_code == 200
    found = eventually(
        lambda: api.call("GET", "/api/alerts", token=admin, params={"rule": rule.json()["id"]}),
        lambda answer: bool(answer.json()["items"]),
    )
    alert = f"/api/alerts/{found.json()['items'][0]['id']}"
    assert api.call("GET", alert, token=admin).status_code == 200
    assert api.call("POST", f"{alert}/ack", token=admin).status_code == 200
    assert api.call("POST", f"{alert}/resolve", token=admin).status_code == 200
    for path in (detectors, models, rules):
        assert api.call("DELETE", path, token=admin).status_code == 204


def _identity_model() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def test_every_operation_was_called_and_answered_with_success(api: CheckedClient) -> None:
    areas = {name for name in globals() if name.startswith("test_")} - {
        "test_every_operation_was_called_and_answered_with_success",
        "test_the_served_document_is_the_one_in_the_repository",
    }
    if missing := areas - _passed:
        pytest.skip(f"needs every area of the module to pass first: {sorted(missing)}")
    operations = {
        (method, path)
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    }
    succeeded = {(m, p) for m, p, status in api.seen if 200 <= status < 300}
    assert operations - succeeded == set()
