"""The HTTP transport every client uses: one httpx.Client, the bearer token, typed errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import httpx

from stratus_sdk.errors import ConnectionFailed, from_response

__all__ = ["USER_AGENT", "Http", "Session"]

USER_AGENT = "stratus-sdk/0.1.0"


class Http:
    """Requests to one Stratus base URL, with `authorization: <scheme> <token>` when a token is
    set; an error answer raises its typed error, no answer raises ConnectionFailed."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._client = client or httpx.Client(
            base_url=self.base_url, timeout=timeout, headers={"user-agent": USER_AGENT}
        )
        self._owned = client is None

    @property
    def client(self) -> httpx.Client:
        return self._client

    def headers(
        self, extra: Mapping[str, str] | None = None, scheme: str = "Bearer"
    ) -> dict[str, str]:
        out = {"authorization": f"{scheme} {self.token}"} if self.token else {}
        if extra:
            out.update(extra)
        return out

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """The answer of a 2xx; raises the typed error otherwise."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._client.request(
                method,
                path,
                json=json,
                content=content,
                params=query,
                headers=self.headers(headers)
                if "authorization" not in (headers or {})
                else headers,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise from_response(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer (None for 204)."""
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def close(self) -> None:
        if self._owned:
            self._client.close()


class Session:
    """A client speaking to one base URL with one token: `http`, and `close()` or `with`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.http = Http(base_url, token, timeout=timeout, client=client)

    @property
    def token(self) -> str:
        return self.http.token or ""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
