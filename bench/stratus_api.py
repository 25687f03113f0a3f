"""The few management-API calls scenarios make to set up and clean their data (reference shapes).

Every call raises `SetupError` naming the request and the answer when the platform refuses it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

# sensors the benchmarks create: a mapping as the reference script sends it (a JSON string)
DEFAULT_MAPPING = '{"type": "double"}'

__all__ = [
    "DEFAULT_MAPPING",
    "SetupError",
    "bearer",
    "create_device",
    "delete",
    "device_key",
    "each",
    "new_sensor",
    "readings",
    "sensor_body",
    "signin",
    "timestamp",
]


class SetupError(RuntimeError):
    """The platform refused a setup or teardown call."""


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _json(response: httpx.Response, what: str) -> Any:
    if not response.is_success:
        raise SetupError(f"{what}: {response.status_code} {response.text[:300]}")
    return response.json()


async def signin(client: httpx.AsyncClient, username: str, password: str | None) -> str:
    """POST /api/users/signin -> the user's token."""
    if password is None:
        raise SetupError(
            "this scenario needs the admin password (--password or STRATUS_ADMIN_PASSWORD)"
        )
    answer = await client.post(
        "/api/users/signin", json={"username": username, "password": password}
    )
    return str(_json(answer, f"sign-in as {username}")["token"])


async def create_device(client: httpx.AsyncClient, token: str, name: str) -> str:
    """POST /api/devices/ -> .result.id"""
    body = {"name": name, "description": "created by the Stratus benchmark"}
    answer = await client.post("/api/devices/", json=body, headers=bearer(token))
    return str(_json(answer, f"create device {name}")["result"]["id"])


async def device_key(client: httpx.AsyncClient, token: str, device: str) -> str:
    """GET /api/devices/{id}/key -> the device's token."""
    answer = await client.get(f"/api/devices/{device}/key", headers=bearer(token))
    return str(_json(answer, f"key of device {device}")["token"])


def sensor_body(name: str, mapping: Any = DEFAULT_MAPPING) -> dict[str, Any]:
    """The body of POST /api/devices/{id}/sensors/ for a benchmark sensor."""
    return {"name": name, "description": "benchmark sensor", "mapping": mapping}


async def new_sensor(client: httpx.AsyncClient, token: str, device: str, name: str) -> str:
    """Create a sensor during setup -> its id."""
    answer = await client.post(
        f"/api/devices/{device}/sensors/", json=sensor_body(name), headers=bearer(token)
    )
    return str(_json(answer, f"create sensor {name} on {device}")["id"])


async def delete(client: httpx.AsyncClient, token: str, path: str) -> None:
    """DELETE a resource; one already gone is fine."""
    answer = await client.delete(path, headers=bearer(token))
    if not answer.is_success and answer.status_code != 404:
        raise SetupError(f"DELETE {path}: {answer.status_code} {answer.text[:300]}")


async def each(
    items: Iterable[Any], call: Callable[[Any], Awaitable[Any]], width: int = 16
) -> list[Any]:
    """`call` on every item, at most `width` at a time, results in order."""
    gate = asyncio.Semaphore(width)

    async def one(item: Any) -> Any:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def timestamp(ns: int, time_format: str) -> int | float | str:
    """A time in the format the platform expects: ns (default), ms, s or rfc3339."""
    if time_format == "ns":
        return ns
    if time_format == "ms":
        return ns // 1_000_000
    if time_format == "s":
        return ns / 1e9
    if time_format == "rfc3339":
        return datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")
    raise ValueError(f"time_format {time_format!r}: use ns, ms, s or rfc3339")


_sequence = [0]


def readings(sensor: str, count: int, time_format: str = "ns", start_ns: int | None = None,
             step_ns: int = 1) -> list[dict[str, Any]]:  # fmt: skip
    """`count` readings in the reference format, with distinct timestamps."""
    _sequence[0] += count
    base = (start_ns if start_ns is not None else time.time_ns()) + _sequence[0]
    return [
        {"sensor_id": sensor, "timestamp": timestamp(base + i * step_ns, time_format),
         "value": (base + i) % 1000 / 10}
        for i in range(count)
    ]  # fmt: skip
