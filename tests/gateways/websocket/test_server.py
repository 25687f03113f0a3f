"""The WebSocket server's protocol with a stand-in ingest: upgrade refusals, ordered acks."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gateways.websocket.server import Gateway
from gateways.websocket.service import Device
from shared.errors import AuthenticationError, BadRequest, PermissionDenied


class LetterIngest:
    """Token "good" is device d1; a message is accepted when it is a JSON array (its length)."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, bytes]] = []

    def authenticate(self, authorization: str | None) -> Device:
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationError("missing bearer token")
        if authorization != "Bearer good":
            raise PermissionDenied("invalid token")
        return Device("d1", "o1")

    def submit(self, device: Device, body: bytes, request_id: str) -> Future[int]:
        value = orjson.loads(body) if body.startswith(b"[") else None
        if not isinstance(value, list):
            raise BadRequest("body must be an array")
        self.submitted.append((device.id, body))
        future: Future[int] = Future()
        future.set_result(len(value))
        return future


async def _with_gateway(test: Any) -> None:
    gateway = Gateway(LetterIngest(), "127.0.0.1", 0)
    await gateway.start()
    try:
        await test(gateway, f"ws://127.0.0.1:{gateway.port}")
    finally:
        await gateway.stop()


def test_upgrade_without_or_with_a_bad_token_is_refused() -> None:
    async def test(gateway: Gateway, url: str) -> None:
        for headers, status in (({}, 401), ({"authorization": "Bearer bad"}, 403)):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url, additional_headers=headers):
                    pass
            assert refused.value.response.status_code == status
            assert orjson.loads(refused.value.response.body)["error"]["status"] == status

    asyncio.run(_with_gateway(test))


def test_each_message_is_answered_in_order_and_a_bad_one_does_not_close() -> None:
    async def test(gateway: Gateway, url: str) -> None:
        async with connect(url, additional_headers={"authorization": "Bearer good"}) as ws:
            for body in ("[1,2]", "oops", "[3]"):
                await ws.send(body)
            answers = [orjson.loads(await ws.recv()) for _ in range(3)]
        assert answers[0] == {"seq": 1, "status": 200, "accepted": 2}
        assert answers[1]["seq"] == 2 and answers[1]["status"] == 400
        assert answers[1]["error"]["message"] == "body must be an array"
        assert answers[2] == {"seq": 3, "status": 200, "accepted": 1}
        assert [body for _, body in gateway.ingest.submitted] == [b"[1,2]", b"[3]"]  # type: ignore[attr-defined]

    asyncio.run(_with_gateway(test))
