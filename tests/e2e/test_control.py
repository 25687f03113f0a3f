"""Device control's HTTP API through the running emulator: who may call it, versions and
preconditions, answers before the first config or state, and command names and sizes."""

from __future__ import annotations

import pytest

from tests.e2e.provisioning import Api, foreign_admin, signin
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    if not platform.endpoints.get("mqtt"):
        pytest.skip("the platform runs without Mosquitto (config and commands answer 503)")
    return signin(platform)


@pytest.fixture(scope="module")
def device(admin: Api) -> str:
    created = admin.post("/api/devices/", json={"name": "controlled"})
    assert created.status_code == 201, created.text
    return str(created.json()["result"]["id"])


def test_before_the_first_set_the_config_is_version_0_and_there_is_no_state(
    admin: Api, device: str
) -> None:
    config = admin.get(f"/api/devices/{device}/config")
    assert config.status_code == 200
    assert config.json() == {
        "device_id": device,
        "version": 0,
        "config": None,
        "updated_ns": None,
        "acknowledged_version": None,
        "acknowledged_ns": None,
    }
    state = admin.get(f"/api/devices/{device}/state")
    assert state.status_code == 404 and state.json()["error"]["status"] == 404


def test_versions_count_up_and_a_stale_precondition_is_412(admin: Api, device: str) -> None:
    path = f"/api/devices/{device}/config"
    first = admin.call("PUT", path, json={"config": {"mode": "eco"}})
    assert first.status_code == 200, first.text
    version = first.json()["version"]
    second = admin.call("PUT", path, json={"config": {"mode": "boost"}, "version": version})
    assert second.status_code == 200 and second.json()["version"] == version + 1
    stale = admin.call("PUT", path, json={"config": {"mode": "off"}, "version": version})
    assert stale.status_code == 412 and stale.json()["error"]["field"] == "version"
    current = admin.get(path).json()
    assert current["version"] == version + 1 and current["config"] == {"mode": "boost"}
    for body, field in (({"version": 1}, "config"), ({"config": 1, "version": -1}, "version")):
        bad = admin.call("PUT", path, json=body)
        assert bad.status_code == 400 and bad.json()["error"]["field"] == field


def test_command_names_and_sizes_are_checked(admin: Api, device: str) -> None:
    base = f"/api/devices/{device}/commands"
    bad = admin.post(f"{base}/bad name!", content=b"{}")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "name", bad.text
    too_big = admin.post(f"{base}/flash", content=b"x" * (64 * 1024 + 1))
    assert too_big.status_code == 413


def test_only_users_of_the_device_org_may_call_it(
    platform: RunningEmulator, admin: Api, device: str
) -> None:
    paths = [
        ("GET", f"/api/devices/{device}/config"),
        ("PUT", f"/api/devices/{device}/config"),
        ("GET", f"/api/devices/{device}/state"),
        ("POST", f"/api/devices/{device}/commands/reboot"),
    ]
    anonymous = admin.with_token(None)
    foreign = foreign_admin(platform)
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    as_device = admin.with_token(token)
    for method, path in paths:
        body = {"json": {"config": {}}} if method == "PUT" else {}
        assert anonymous.call(method, path, **body).status_code == 401
        assert as_device.call(method, path, **body).status_code == 403
        assert foreign.call(method, path, **body).status_code == 404  # no existence oracle
    unknown = admin.get("/api/devices/00000000000000000000/config")
    assert unknown.status_code == 404
