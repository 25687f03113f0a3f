"""Every built-in scenario against an in-memory fake of the reference API (httpx MockTransport):
setup makes what it needs, requests succeed, teardown deletes what setup made."""

import asyncio
import json
import re

import httpx
import pytest

from bench import scenarios
from bench.http import Answer
from bench.registry import UnknownScenario, get
from bench.registry import scenarios as registered
from bench.scenario import Context, Scenario
from bench.stratus_api import SetupError


class HttpxLoad:
    """The load client's interface over the in-memory httpx client (bench.http is aiohttp)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(self, method, path, *, json=None, params=None, headers=None) -> Answer:
        answer = await self.client.request(method, path, json=json, params=params, headers=headers)
        return Answer(answer.status_code, answer.content)

    async def get(self, path, **kwargs) -> Answer:
        return await self.request("GET", path, **kwargs)

    async def post(self, path, **kwargs) -> Answer:
        return await self.request("POST", path, **kwargs)


def _context(client, target, *args, **kwargs) -> Context:
    return Context(client, HttpxLoad(client), target, *args, **kwargs)


class FakeApi:
    def __init__(self) -> None:
        self.devices: dict[str, dict] = {}
        self.ingested: list[dict] = []
        self.calls: list[str] = []
        self.next = 0

    def _id(self) -> str:
        self.next += 1
        return f"id{self.next}"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append(f"{method} {path}")
        auth = request.headers.get("authorization", "")
        body = json.loads(request.content) if request.content else None
        if (method, path) == ("POST", "/api/users/signin"):
            if body != {"username": "admin", "password": "secret"}:
                return httpx.Response(401)
            return httpx.Response(200, json={"token": "admin-token"})
        if path == "/ingest":
            device = next((d for d in self.devices.values() if auth == f"Bearer {d['key']}"), None)
            if device is None or not isinstance(body, list):
                return httpx.Response(403)
            assert all(set(r) == {"sensor_id", "timestamp", "value"} for r in body)
            self.ingested.extend(body)
            return httpx.Response(202, json={"accepted": len(body)})
        if auth != "Bearer admin-token":
            return httpx.Response(401)
        if (method, path) == ("GET", "/api/devices/"):
            return httpx.Response(200, json={"result": list(self.devices.values())})
        if (method, path) == ("POST", "/api/devices/"):
            device = {"id": self._id(), "name": body["name"], "sensors": {}}
            device["key"] = f"key-{device['id']}"
            self.devices[device["id"]] = device
            return httpx.Response(201, json={"result": {"id": device["id"]}})
        match = re.fullmatch(r"/api/devices/(\w+)(/key|/sensors/(\w*)(/data)?)?/?", path)
        if not match or match.group(1) not in self.devices:
            return httpx.Response(404)
        device = self.devices[match.group(1)]
        tail, sensor, data = match.group(2), match.group(3), match.group(4)
        if tail == "/key":
            return httpx.Response(200, json={"token": device["key"]})
        if tail is None and method == "DELETE":
            del self.devices[device["id"]]
            return httpx.Response(204)
        if method == "POST" and sensor == "":
            assert set(body) == {"name", "description", "mapping"}
            sid = self._id()
            device["sensors"][sid] = body
            return httpx.Response(201, json={"id": sid})
        if sensor not in device["sensors"]:
            return httpx.Response(404)
        if data:
            assert "from" in request.url.params and "to" in request.url.params
            return httpx.Response(200, json={"data": []})
        if method == "DELETE":
            del device["sensors"][sensor]
            return httpx.Response(204)
        return httpx.Response(200, json=device["sensors"][sensor])


def _drive(scenario: Scenario, api: FakeApi, requests: int = 5, **options) -> list:
    async def main():
        transport = httpx.MockTransport(api)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratus") as client:
            ctx = _context(client, "http://stratus", "admin", "secret", options, vus=3)
            await scenario.setup(ctx)
            json.dumps(ctx.state)  # worker processes receive it
            outcomes = [await scenario.request(ctx, vu % 3) for vu in range(requests)]
            await scenario.teardown(ctx)
            return outcomes

    return asyncio.run(main())


HTTP_SCENARIOS = sorted(n for n, c in registered().items() if c.transport == "http")


@pytest.mark.parametrize("name", [n for n in HTTP_SCENARIOS if n != "trivial"])
def test_scenario_succeeds_and_cleans_up(name):
    api = FakeApi()
    outcomes = _drive(get(name), api)
    assert all(200 <= o < 300 for o in outcomes), outcomes
    assert api.devices == {}


def test_ingest_batch_sends_its_batch_size_and_uses_each_device():
    api = FakeApi()
    _drive(get("ingest-batch"), api, requests=3, batch="7", devices="3")
    assert len(api.ingested) == 21
    assert len({r["sensor_id"] for r in api.ingested}) == 3
    assert len({r["timestamp"] for r in api.ingested}) == 21


def test_ingest_costs_follow_the_batch():
    transport = httpx.MockTransport(FakeApi())
    ctx = _context(httpx.AsyncClient(transport=transport), "x", options={"batch": "50"})
    assert get("ingest-batch").costs(ctx)["readings"] == 50
    assert get("ingest-single").costs(_context(ctx.client, "x"))["readings"] == 1


def test_query_seeds_readings_and_rfc3339_times():
    api = FakeApi()
    _drive(get("query-agg"), api, requests=1, seed="20", time_format="rfc3339")
    assert len(api.ingested) == 20
    assert api.ingested[0]["timestamp"].endswith("Z")


def test_setup_error_names_the_call():
    api = FakeApi()
    scenario = get("device-list")

    async def main():
        transport = httpx.MockTransport(api)
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
            await scenario.setup(_context(client, "http://s", "admin", "wrong"))

    with pytest.raises(SetupError, match="sign-in as admin: 401"):
        asyncio.run(main())


def test_plugin_scenario_by_import_path():
    assert isinstance(get("bench.scenarios:Trivial"), scenarios.Trivial)
    with pytest.raises(UnknownScenario, match="not a Scenario"):
        get("bench.scenario:Context")
    with pytest.raises(UnknownScenario, match="unknown scenario"):
        get("nope")
