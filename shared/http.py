"""Platform-neutral HTTP request and response values, and the JSON helpers every function uses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import orjson

from shared.errors import (
    BadRequest,
    PayloadTooLarge,
    StratusError,
    UnsupportedMediaType,
    ValidationError,
)

__all__ = [
    "JSON_TYPES",
    "MAX_JSON_DEPTH",
    "Request",
    "Response",
    "check_size",
    "client_address",
    "dumps",
    "error_response",
    "json_response",
    "parse_json",
    "parse_query",
    "too_deep",
]

JSON_TYPES = frozenset({"application/json"})
# Deepest nesting of arrays and objects any JSON document may have: far more than any body of
# the API needs, far less than what breaks a recursive reader (Python's limit is 1000)
MAX_JSON_DEPTH = 32
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests arrays and objects more than `limit` levels deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def _shallow(data: bytes, limit: int) -> bool:
    """A fast sufficient test: the brackets of `data` (those in strings too, so this can only
    overstate the depth) close within `limit` levels."""
    brackets = data.translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return True
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return not brackets


def parse_json(
    data: bytes,
    what: str = "request body",
    max_depth: int = MAX_JSON_DEPTH,
    *,
    unique_keys: bool = False,
) -> Any:
    """Parse JSON the one way every door does: 400 (BadRequest) naming `what` when it is not
    JSON or nests deeper than `max_depth` levels, so no deep value reaches a reader that
    recurses (orjson itself stops at 1024 levels). With `unique_keys`, an object naming a key
    twice is 400 too (JSON leaves it undefined; parsers keep the last or the first)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    if (
        isinstance(value, (dict, list))
        and not _shallow(data, max_depth)
        and too_deep(value, max_depth)
    ):
        raise BadRequest(f"{what} nests arrays and objects more than {max_depth} levels deep")
    if unique_keys and b"{" in data:
        json.loads(data, object_pairs_hook=partial(_unique, what))
    return value


def _unique(what: str, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, item in pairs:
        if key in seen:
            raise BadRequest(f"{what} names the key {key[:64]!r} twice in one object")
        seen[key] = item
    return seen


def dumps(data: Any) -> bytes:
    """Serialise to compact JSON bytes (datetimes as RFC 3339, non-str dict keys allowed)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def parse_query(query_string: str) -> dict[str, list[str]]:
    """Decode a raw query string into name -> values, keeping blank values."""
    out: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        out.setdefault(name, []).append(value)
    return out


@dataclass(slots=True)
class Request:
    """One HTTP request as a function sees it, whatever platform delivered it.

    Header names are lower case. `path_params` is filled by the router, `context` by middlewares
    (for example the authenticated principal).
    """

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    query_string: str = ""
    path_params: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    remote_addr: str = ""  # the peer's address, as the platform's server saw it
    _query: dict[str, list[str]] | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower case ('' when absent)."""
        raw = self.headers.get("content-type", "")
        return raw.split(";", 1)[0].strip().lower()

    @property
    def query(self) -> dict[str, list[str]]:
        """Query parameters: name -> every value given."""
        if self._query is None:
            self._query = parse_query(self.query_string)
        return self._query

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self, *, media_types: frozenset[str] = JSON_TYPES, required: bool = True) -> Any:
        """Parse the body as JSON, insisting on a JSON content type.

        A missing content type is accepted when the body is JSON (curl without -H); any other
        declared type is a 415. A key named twice in one object is 400 (`parse_json`).
        """
        if not self.body:
            if required:
                raise BadRequest("request body is empty; expected a JSON document")
            return None
        media = self.media_type
        if media and media not in media_types and not media.endswith("+json"):
            raise UnsupportedMediaType(
                f"content type {media!r} is not supported; send {' or '.join(sorted(media_types))}"
            )
        return parse_json(self.body, unique_keys=True)

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (`json()`); 400 naming `body` for any other JSON value."""
        body = self.json()
        if not isinstance(body, dict):
            raise ValidationError("request body must be a JSON object", field="body")
        return body


def client_address(request: Request, *, behind_proxy: bool) -> str:
    """Who sent the request, for per-client limits. Served directly (the emulator), the peer's
    address; behind a proxy that appends the address it saw to `x-forwarded-for` (Cloud Run's
    front end, an OpenWhisk gateway), the last entry of that header, which a client cannot forge
    (entries it adds itself come first). "" when unknown."""
    if behind_proxy:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.remote_addr


@dataclass(slots=True)
class Response:
    """What a function answers: status, headers (lower-case names) and a byte body."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON (for tests and clients)."""
        return orjson.loads(self.body) if self.body else None


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response."""
    out = {"content-type": "application/json"}
    if headers:
        out.update(headers)
    return Response(status=status, body=dumps(data), headers=out)


def error_response(error: StratusError, request_id: str | None = None) -> Response:
    """The JSON body every error gets: {"error": {...}, "request_id": ...}."""
    body: dict[str, Any] = {"error": error.to_dict()}
    if request_id:
        body["request_id"] = request_id
    headers = {}
    allow = getattr(error, "allow", None)
    if allow:
        headers["allow"] = ", ".join(allow)
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        headers["retry-after"] = str(retry_after)
    return json_response(body, error.status, headers)


def check_size(length: int, limit: int) -> None:
    """Raise 413 when a body of `length` bytes exceeds `limit`."""
    if length > limit:
        raise PayloadTooLarge(f"request body is {length} bytes; the limit is {limit} bytes")
