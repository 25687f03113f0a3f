"""The WebSocket gateway on the `websockets` library: token checked on the upgrade request,
then each message validated, published and acknowledged in order on the socket."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from gateways.websocket.service import Device, Ingest, ack, refusal
from shared.errors import StratusError, Unavailable

__all__ = ["Gateway"]

_log = logging.getLogger("stratus.websocket")
PIPELINE = 256  # messages of one connection waiting for the bus before reading pauses


class Gateway:
    """Serves `ingest` over WebSockets; `start` binds, `port` tells where."""

    def __init__(self, ingest: Ingest, host: str, port: int, max_size: int = 1024 * 1024) -> None:
        self.ingest, self.host, self.requested_port, self.max_size = ingest, host, port, max_size
        self.server: Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(next(iter(self.server.sockets)).getsockname()[1])

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            device = self.ingest.authenticate(request.headers.get("authorization"))
        except StratusError as error:
            body = orjson.dumps({"error": error.to_dict()})
            return Response(
                error.status,
                "Unauthorized" if error.status == 401 else "Forbidden",
                Headers([("content-type", "application/json"),
                         ("content-length", str(len(body)))]),
                body,
            )  # fmt: skip
        connection.device = device  # type: ignore[attr-defined]
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        device: Device = connection.device  # type: ignore[attr-defined]
        prefix = uuid.uuid4().hex[:12]
        pending: asyncio.Queue[tuple[int, Any] | None] = asyncio.Queue(PIPELINE)
        writer = asyncio.create_task(self._answer(connection, pending))
        seq = 0
        try:
            async for message in connection:
                seq += 1
                body = message.encode() if isinstance(message, str) else message
                try:
                    future = self.ingest.submit(device, body, f"{prefix}-{seq}")
                except StratusError as error:
                    await pending.put((seq, error))
                else:
                    await pending.put((seq, asyncio.wrap_future(future)))
        except ConnectionClosed:
            pass
        finally:
            await pending.put(None)
            await writer

    async def _answer(
        self, connection: ServerConnection, pending: asyncio.Queue[tuple[int, Any] | None]
    ) -> None:
        while (item := await pending.get()) is not None:
            seq, outcome = item
            if isinstance(outcome, StratusError):
                answer = refusal(seq, outcome)
            else:
                try:
                    answer = ack(seq, await outcome)
                except StratusError as error:
                    answer = refusal(seq, error)
                except Exception:
                    _log.exception("publishing message %d failed", seq)
                    answer = refusal(seq, Unavailable("the bus did not take the message"))
            try:
                await connection.send(orjson.dumps(answer).decode())
            except ConnectionClosed:
                continue  # keep draining so the reader never blocks on a full queue

    async def start(self) -> None:
        self.server = await serve(
            self._serve,
            self.host,
            self.requested_port,
            process_request=self._check,
            max_size=self.max_size,
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
