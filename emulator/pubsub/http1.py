"""A minimal asyncio HTTP/1.1 POST client with keep-alive, for pushing to plain-http endpoints.

httpx.AsyncClient measured ~120-290 pushes/s here (its pool scans every connection per request
and, without sniffio installed, retries a failing import on each one); this does the one thing
push needs at several times that. HTTPS endpoints still go through httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["Http1Pool"]

_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Http1Pool:
    def __init__(self, max_idle: int = 64) -> None:
        self.max_idle = max_idle
        self.idle: dict[tuple[str, int], list[_Conn]] = {}

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST and return the status; OSError / TimeoutError / ValueError when it fails."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"POST {target} HTTP/1.1", f"host: {parts.netloc}", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        async with asyncio.timeout(timeout):  # no extra task per request, unlike wait_for
            return await self._post((host, port), request)

    async def _post(self, key: tuple[str, int], request: bytes) -> int:
        pool = self.idle.setdefault(key, [])
        while pool:  # reuse an idle connection; a stale one fails before any answer: try another
            conn = pool.pop()
            try:
                return await self._exchange(key, conn, request)
            except (ConnectionError, asyncio.IncompleteReadError, _Stale):
                continue
        conn = await asyncio.open_connection(*key)
        try:
            return await self._exchange(key, conn, request)
        except _Stale:
            raise ConnectionError("connection closed without an answer") from None

    async def _exchange(self, key: tuple[str, int], conn: _Conn, request: bytes) -> int:
        reader, writer = conn
        try:
            writer.write(request)
            status_line = await reader.readline()
            if not status_line:
                raise _Stale
            version, status = status_line.split(b" ", 2)[:2]
            length, chunked, keep = None, False, version == b"HTTP/1.1"
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value:
                    chunked = True
                elif name == b"connection":
                    keep = value == b"keep-alive" if version != b"HTTP/1.1" else value != b"close"
            code = int(status)
            if chunked:
                while size := int((await reader.readline()).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
            elif length is not None:
                await reader.readexactly(length)
            elif code not in (204, 304) and not 100 <= code < 200:
                await reader.read()
                keep = False
        except BaseException:
            writer.close()
            raise
        pool = self.idle.setdefault(key, [])
        if keep and len(pool) < self.max_idle:
            pool.append(conn)
        else:
            writer.close()
        return code

    async def close(self) -> None:
        for pool in self.idle.values():
            for _, writer in pool:
                writer.close()
        self.idle.clear()


class _Stale(Exception):
    """The peer closed the connection before answering."""
