"""Baseline: the same load against a trivial echo function on the stock functions-framework
server (its default gunicorn settings) for HTTP scenarios, or against a plain Mosquitto with a
plain subscriber for MQTT ones (`bench.mqtt_baseline`), so Stratus can be reported as ratios.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

__all__ = ["APP", "functions_framework_echo", "run_baseline", "summarize"]

APP = Path(__file__).with_name("baseline_app.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def functions_framework_echo(port: int = 0, timeout: float = 30.0) -> Iterator[str]:
    """`functions-framework --target echo --source bench/baseline_app.py` on 127.0.0.1; yields
    its base URL once it answers, stops it afterwards."""
    port = port or _free_port()
    command = [
        sys.executable, "-m", "functions_framework", "--target", "echo",
        "--source", str(APP), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"functions-framework exited: {error[-2000:]}")
            try:
                if httpx.post(url + "/", json={}, timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"functions-framework did not answer on {url} in {timeout} s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stderr:
            process.stderr.close()


def run_baseline(scenario: Any, config: Any, processes: int = 1) -> tuple[str, Any]:
    """The same profile against the scenario's baseline: (its name, a LoadResult)."""
    from bench.parallel import run_processes
    from bench.scenarios import Trivial

    if scenario.transport == "mqtt":
        from bench.mqtt_baseline import NAME, run_plain

        return NAME, run_plain(scenario.qos, config, processes)
    with functions_framework_echo() as url:
        base = dataclasses.replace(
            config, target=url, password=None, options={}, mqtt=None, store=None
        )
        return "functions-framework echo", run_processes(Trivial(), base, processes)


def summarize(name: str, ours: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The baseline's figures and Stratus' ratios to them, for `result["baseline"]`."""
    from bench.report import ratios

    return {
        "name": name,
        "requests": base["requests"],
        "goodput": base["goodput"],
        "throughput_rps": base["throughput_rps"],
        "latency_ms": base["latency_ms"],
        "e2e": base.get("e2e"),
        "ratios": ratios(ours, base),
    }
