"""`python -m emulator`: flags, clear one-line errors, start, stop and kill -9."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.emulator import ROOT, alive, children_of, start_emulator


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("flag", "name", "variable"),
    [
        ("--port", "functions", "STRATUS_PORT"),
        ("--firestore-port", "firestore", "STRATUS_FIRESTORE_PORT"),
        ("--pubsub-port", "pubsub", "STRATUS_PUBSUB_PORT"),
        ("--mqtt-port", "mqtt", "STRATUS_MQTT_PORT"),
        ("--mqtt-ws-port", "mqtt-ws", "STRATUS_MQTT_WS_PORT"),
    ],
)
def test_port_in_use_is_one_line_naming_the_port_and_the_flag(
    tmp_path: Path, taken_port: int, flag: str, name: str, variable: str
) -> None:
    others = {"--port": "0", "--firestore-port": "0", "--pubsub-port": "0", "--mqtt-port": "0",
              "--mqtt-ws-port": "0"}  # fmt: skip
    others[flag] = str(taken_port)
    args = [item for pair in others.items() for item in pair]
    result = run_cli(*args, "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {name} port {taken_port} on 127.0.0.1 is already in use; choose another with "
        f"{flag} (or {variable}), 0 for a free one"
    )


def test_bad_port_value_is_refused_by_the_parser(tmp_path: Path) -> None:
    result = run_cli("--port", "70000", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "--port 70000 is not a port" in result.stderr


def test_broken_manifest_is_one_line(tmp_path: Path) -> None:
    manifest = tmp_path / "serverless.yml"
    manifest.write_text(
        "functions:\n  a: {handler: nowhere/main.main, events: [{http: 'GET /a'}]}\n"
    )
    result = run_cli("--manifest", str(manifest), "--data-dir", str(tmp_path / "d"), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: functions.a.handler: nowhere/main.py does not exist")


@pytest.mark.e2e
def test_start_report_stop_and_kill(tmp_path: Path) -> None:
    emulator = start_emulator(tmp_path / "data")
    try:
        endpoints = json.loads((tmp_path / "data" / "endpoints.json").read_text())
        assert set(endpoints) >= {"base_url", "firestore", "pubsub", "mqtt", "project", "data_dir"}
        health = httpx.get(f"{emulator.base_url}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        status = httpx.get(f"{emulator.base_url}/api/status")
        assert status.status_code == 200
        assert status.json()["dependencies"]["store"]["status"] == "ok"
        assert emulator.process is not None
        children = children_of(emulator.process.pid)
        assert len(children) >= 4  # firestore, pubsub, mqtt, functions

        emulator.kill()  # kill -9 of the emulator: every child dies with it
        assert not [pid for pid in children if alive(pid)]

        emulator.start()  # the same data directory after a crash
        assert httpx.get(f"{emulator.base_url}/healthz").status_code == 200
        assert emulator.stop() == 0
        assert not (tmp_path / "data" / "endpoints.json").exists()
        assert "Stratus emulator stopped" in emulator.log()
    finally:
        emulator.kill()
