"""Check real HTTP exchanges against the OpenAPI document with openapi-core (httpx adapters)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["CheckedClient"]


class _Request:
    """An httpx request as openapi-core's Request protocol."""

    def __init__(self, request: httpx.Request) -> None:
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode()}"
        # the platform ignores a trailing slash (/api/devices/ is /api/devices), as documented
        self.path = url.path.rstrip("/") or "/"
        self.method = request.method.lower()
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query.decode(), keep_blank_values=True)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    """An httpx response as openapi-core's Response protocol."""

    def __init__(self, response: httpx.Response, data: bytes | None = None) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(dict(response.headers))
        self.data: bytes | None = response.content if data is None else data


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$")


def _text(data: bytes | str, **parameters: str) -> str:
    """A text body as a string, in its `charset` parameter's encoding (UTF-8 by default)."""
    if isinstance(data, str):
        return data
    return data.decode(parameters.get("charset", "utf-8"))


class CheckedClient:
    """Sends requests to `base_url`; validates each request (unless told it is meant to be
    invalid) and every response against `document`, and records which operations answered what."""

    def __init__(self, base_url: str, document: dict[str, Any]) -> None:
        self.base_url = base_url
        # SenML JSON (RFC 8428) is JSON under its own media type; CSV is text
        config = Config(
            extra_media_type_deserializers={
                "application/senml+json": orjson.loads,
                "text/csv": _text,
                "text/event-stream": _text,
            }
        )
        self.spec = OpenAPI.from_dict(document, config=config)
        self.seen: set[tuple[str, str, int]] = set()
        # literal paths before templated ones: /api/users/self before /api/users/{user_id}
        templates = sorted(document["paths"], key=lambda p: (p.count("{"), p))
        self._templates = [(t, _pattern(t)) for t in templates]

    def operation(self, method: str, path: str) -> tuple[str, str]:
        for template, pattern in self._templates:
            if pattern.match(path):
                return method.lower(), template
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        valid_request: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["authorization"] = f"Bearer {token}"
        response = httpx.request(
            method, self.base_url + path, headers=headers, timeout=30, **kwargs
        )
        request = _Request(response.request)
        if valid_request:
            self.spec.validate_request(request)
        self.spec.validate_response(request, _Response(response))
        key = self.operation(method, response.request.url.path)
        self.seen.add((*key, response.status_code))
        return response

    def stream(
        self, path: str, *, token: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """GET a Server-Sent Events endpoint: the status and the first chunk of the body (the
        stream never ends by itself), validated and recorded like `call`."""
        all_headers = dict(headers or {})
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        with httpx.stream("GET", self.base_url + path, headers=all_headers, timeout=30) as answer:
            first = next(answer.iter_bytes(), b"") if answer.status_code < 300 else answer.read()
            request = _Request(answer.request)
            self.spec.validate_request(request)
            self.spec.validate_response(request, _Response(answer, first))
            self.seen.add((*self.operation("GET", answer.request.url.path), answer.status_code))
            return answer.status_code, first
