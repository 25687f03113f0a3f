"""The load's HTTP client: keep-alive HTTP/1.1 on aiohttp, one connection per VU at most.

Setup, verification and teardown talk to the platform through httpx (`Context.client`), like the
tests. The requests that are measured go through this client instead, because the load generator
shares the machine with the platform: here httpx's pool scans every pooled connection on each
request and cost 2.6 ms of CPU per request with 20 VUs, aiohttp 0.19 ms (`GET /healthz`, same
machine, same run). What the generator spends, the platform under test does not get.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

__all__ = ["Answer", "LoadClient"]

_JSON = {"content-type": "application/json"}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return orjson.loads(self.body)


class LoadClient:
    """Requests against one base URL; each returns the status and the whole body."""

    def __init__(self, base_url: str, *, connections: int, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.connections = connections
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LoadClient:
        # created inside the running loop, as aiohttp requires
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections, force_close=False),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            trust_env=False,  # load goes straight to the target, never through a proxy
            skip_auto_headers=("user-agent",),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        if self._session is None:
            raise RuntimeError("LoadClient is used outside its `async with`")
        body = None
        if json is not None:
            body = orjson.dumps(json)
            headers = _JSON | dict(headers or {})
        async with self._session.request(
            method, self.base_url + path, data=body, params=params, headers=headers
        ) as response:
            return Answer(response.status, await response.read())

    async def get(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("POST", path, **kwargs)
