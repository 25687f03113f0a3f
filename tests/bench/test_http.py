"""The load's HTTP client against a local echo: bodies, query strings, statuses, misuse."""

import asyncio

import orjson
import pytest

from bench.http import LoadClient


def test_json_body_query_and_status_reach_the_target(echo_server):
    async def main():
        async with LoadClient(echo_server + "/", connections=2, timeout=5) as http:
            body = {"readings": [1, 2, 3]}
            sent = await http.post("/ingest", json=body, params={"a": "1"}, headers={"x": "y"})
            failed = await http.get("/status/503")
            return sent, failed, len(orjson.dumps(body))

    sent, failed, length = asyncio.run(main())
    assert sent.status == 200 and sent.is_success
    assert sent.json() == {"path": "/ingest?a=1", "length": length}
    assert failed.status == 503 and not failed.is_success


def test_a_request_outside_the_client_context_is_refused(echo_server):
    http = LoadClient(echo_server, connections=1, timeout=5)
    with pytest.raises(RuntimeError, match="outside its `async with`"):
        asyncio.run(http.get("/"))
