"""The WebSocket gateway on the `websockets` library: token checked on the upgrade request and
again on every frame and while idle (a rotated key or a deleted device closes the socket), each
message validated, published and acknowledged in order on the socket."""

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
REVOKED = 1008  # close code (policy violation) when the device's token no longer holds


class Gateway:
    """Serves `ingest` over WebSockets; `start` binds, `port` tells where."""

    def __init__(
        self,
        ingest: Ingest,
        host: str,
        port: int,
        max_size: int = 1024 * 1024,
        *,
        token_cache_seconds: float = 5.0,
    ) -> None:
        self.ingest, self.host, self.requested_port, self.max_size = ingest, host, port, max_size
        # an idle socket's token is checked this often: with the authenticator's cache it is
        # closed at most STRATUS_TOKEN_CACHE_SECONDS (and a quarter) after a rotation
        self.recheck = max(token_cache_seconds / 4, 0.25)
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
        connection.authorization = request.headers.get("authorization")  # type: ignore[attr-defined]
        return None

    def _still_valid(self, connection: ServerConnection) -> StratusError | None:
        """None while the connection's token holds; the 401/403 once it no longer does (a store
        that cannot answer revokes nothing: the frames' own checks will say so)."""
        try:
            self.ingest.authenticate(connection.authorization)  # type: ignore[attr-defined]
        except StratusError as error:
            return error if error.status in (401, 403) else None
        return None

    async def _revoke(self, connection: ServerConnection, error: StratusError) -> None:
        _log.info("closing a socket of device %s: %s", connection.device.id,  # type: ignore[attr-defined]
                  error.message)  # fmt: skip
        reason = error.message.encode()[:120].decode(errors="ignore")  # a close reason: 123 B
        await connection.close(REVOKED, reason)

    async def _watch(self, connection: ServerConnection) -> None:
        """Close an idle socket whose token was revoked (frames are checked as they come)."""
        while True:
            await asyncio.sleep(self.recheck)
            error = await asyncio.to_thread(self._still_valid, connection)
            if error is not None:
                await self._revoke(connection, error)
                return

    async def _serve(self, connection: ServerConnection) -> None:
        device: Device = connection.device  # type: ignore[attr-defined]
        prefix = uuid.uuid4().hex[:12]
        pending: asyncio.Queue[tuple[int, Any] | None] = asyncio.Queue(PIPELINE)
        writer = asyncio.create_task(self._answer(connection, pending))
        watcher = asyncio.create_task(self._watch(connection))
        seq = 0
        try:
            async for message in connection:
                seq += 1
                body = message.encode() if isinstance(message, str) else message
                revoked = self._still_valid(connection)
                if revoked is not None:  # refused, answered, and the socket closed
                    await pending.put((seq, revoked))
                    await pending.put(None)
                    await writer
                    await self._revoke(connection, revoked)
                    return
                try:
                    future = self.ingest.submit(device, body, f"{prefix}-{seq}")
                except StratusError as error:
                    await pending.put((seq, error))
                else:
                    await pending.put((seq, asyncio.wrap_future(future)))
        except ConnectionClosed:
            pass
        finally:
            watcher.cancel()
            if not writer.done():
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
