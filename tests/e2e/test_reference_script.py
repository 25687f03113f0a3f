"""The TUM iotplatform's "Creating Devices and Sensors using the API" script against Stratus:
once as the script itself (bash, curl, jq; only the base URL, credentials and name changed) and
once as the same calls through httpx."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e

# Verbatim from the reference (iotplatform README), except the three marked substitutions:
# NAME, and the credentials in get_initial_token; IOTCORE_BACKEND comes from the environment.
SCRIPT = r"""#!/bin/bash
set -e

export NAME=@NAME@

# Login to retrieve initial token
get_initial_token() {
    curl \
            -X POST \
            -H "Content-Type: application/json" \
            -d '{"username":"@USER@","password":"@PASSWORD@"}' \
            ${IOTCORE_BACKEND}/api/users/signin \
        > jwt.json

    export JWT=$(cat jwt.json \
        | jq -r '.token'
    )
}

# Create device by issueing POST request to IoTCore backend
create_device() {
    curl \
            -X POST \
            -H "Content-Type: application/json" \
            -H "Authorization: Bearer "${JWT} \
            -d '{"name":"'${NAME}'-device","description":"'${NAME}'-integration-test-device"}' \
            ${IOTCORE_BACKEND}/api/devices/ \
        > device.json

    export DEVICE_ID=$(cat device.json \
        | jq -r '.result.id'
    )
}

# Create sensor by issueing POST request to IoTCore backend
create_sensor() {
    curl \
            -X POST \
            -H "Content-Type: application/json" \
            -H "Authorization: Bearer "${JWT} \
            -d '{"name":"'${NAME}'-sensor","description":"'${NAME}'-integration-test-sensor","mapping":"{\"type\":\"double\"}"}' \
            ${IOTCORE_BACKEND}/api/devices/${DEVICE_ID}/sensors/ \
        > sensor.json

    export SENSOR_ID=$(cat sensor.json \
        | jq -r '.id'
    )
}

# Retrieve auth key for device from IoTCore backend
retrieve_auth_key() {
    curl \
            -X GET \
            -H "Authorization: Bearer "${JWT} \
            ${IOTCORE_BACKEND}/api/devices/${DEVICE_ID}/key \
        > token.json

    export TOKEN=$(cat token.json \
        | jq -r '.token'
    )
}


################################################################################
################################################################################
################################################################################

get_initial_token
create_device
create_sensor
retrieve_auth_key

"""  # noqa: E501

# What the script leaves behind, printed by a line appended after it runs.
REPORT = 'echo "DEVICE_ID=${DEVICE_ID}"; echo "SENSOR_ID=${SENSOR_ID}"; echo "TOKEN=${TOKEN}"\n'


def _check_token(platform: RunningEmulator, token: str, device_id: str) -> None:
    """The device token verifies with the published JWKS and names the device."""
    keys = httpx.get(f"{platform.base_url}/.well-known/jwks.json", timeout=30).json()
    key = jwt.PyJWKSet.from_dict(keys)[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["ES256"], issuer="stratus")
    assert (claims["sub"], claims["typ"]) == (device_id, "device")


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq on PATH"
)
def test_the_script_runs_unchanged(platform: RunningEmulator, tmp_path: Path) -> None:
    script = (
        SCRIPT.replace("@NAME@", "refscript")
        .replace("@USER@", "admin")
        .replace("@PASSWORD@", platform.admin_password)
    )
    (tmp_path / "create.sh").write_text(script + REPORT)
    done = subprocess.run(
        ["bash", "create.sh"],
        cwd=tmp_path,
        env={**os.environ, "IOTCORE_BACKEND": platform.base_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert all(found[name] not in {"", "null"} for name in ("DEVICE_ID", "SENSOR_ID", "TOKEN"))
    _check_token(platform, found["TOKEN"], found["DEVICE_ID"])
    sensor = httpx.get(
        f"{platform.base_url}/api/devices/{found['DEVICE_ID']}/sensors/{found['SENSOR_ID']}",
        headers={"authorization": f"Bearer {found['TOKEN']}"},
        timeout=30,
    )
    assert sensor.status_code == 403  # the device token is not for the management API
    for name in ("jwt.json", "device.json", "sensor.json", "token.json"):
        assert (tmp_path / name).exists()


def test_the_same_calls_through_httpx(platform: RunningEmulator) -> None:
    base = platform.base_url
    signin = httpx.post(
        f"{base}/api/users/signin",
        headers={"Content-Type": "application/json"},
        content=f'{{"username":"admin","password":"{platform.admin_password}"}}',
        timeout=30,
    )
    assert signin.status_code == 200, signin.text
    auth = {"Authorization": "Bearer " + signin.json()["token"]}

    device = httpx.post(
        f"{base}/api/devices/",
        headers={"Content-Type": "application/json", **auth},
        content='{"name":"httpx-device","description":"httpx-integration-test-device"}',
        timeout=30,
    )
    assert device.status_code == 201, device.text
    device_id = device.json()["result"]["id"]
    assert device.json()["result"]["name"] == "httpx-device"

    sensor = httpx.post(
        f"{base}/api/devices/{device_id}/sensors/",
        headers={"Content-Type": "application/json", **auth},
        content=(
            '{"name":"httpx-sensor","description":"httpx-integration-test-sensor",'
            '"mapping":"{\\"type\\":\\"double\\"}"}'
        ),
        timeout=30,
    )
    assert sensor.status_code == 201, sensor.text
    assert sensor.json()["mapping"] == {"type": "double", "unit": None}
    sensor_id = sensor.json()["id"]

    key = httpx.get(f"{base}/api/devices/{device_id}/key", headers=auth, timeout=30)
    assert key.status_code == 200
    token = key.json()["token"]
    _check_token(platform, token, device_id)
    again = httpx.get(f"{base}/api/devices/{device_id}/key", headers=auth, timeout=30)
    assert again.json()["token"] == token  # downloading the key twice gives the same key

    listed = httpx.get(f"{base}/api/devices/{device_id}/sensors/", headers=auth, timeout=30)
    assert [s["id"] for s in listed.json()["items"]] == [sensor_id]
