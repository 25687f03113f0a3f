"""The host's WSGI application: routes requests to functions by the manifest, delivers pushes.

Functions built on `shared.function.HttpFunction` / `shared.events.EventFunction` are called
directly (no Flask in the way); any other functions-framework target is served through the
framework's own Flask app, so plain Cloud Run functions run unchanged.
"""

from __future__ import annotations

import hmac
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

from emulator.host.accounts import claim_accounts
from emulator.process import die_with_parent, server_collector
from shared import logs
from shared.errors import BadRequest, MethodNotAllowed, NotFound, PermissionDenied, StratusError
from shared.events import EventFunction
from shared.function import HttpFunction
from shared.http import Request, Response, check_size, error_response, json_response
from shared.manifest import FunctionSpec, Manifest, load
from shared.platforms.push import PUSH_BODY_LIMIT, answer, read_push
from shared.router import Router
from shared.settings import settings
from shared.streaming import StreamingResponse

__all__ = ["EVENTS_PREFIX", "PUSH_BODY_LIMIT", "Host", "create_app"]

_log = logging.getLogger("stratus.host")

EVENTS_PREFIX = "/_/events/"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_REASONS = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def _status_line(status: int) -> str:
    return _REASONS.get(status, f"{status} Unknown")


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    raw_length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            raise BadRequest("content-length is not a number") from None
        check_size(length, limit)
        return bytes(stream.read(length)) if length else b""
    body = bytes(stream.read(limit + 1))
    check_size(len(body), limit)
    return body


class _Loaded:
    """One function of the manifest, loaded: our fast path object or a Flask fallback."""

    def __init__(self, spec: FunctionSpec, root: Path) -> None:
        self.spec = spec
        module = importlib.import_module(spec.module)
        target = getattr(module, spec.target, None)
        if target is None:
            found = ", ".join(n for n in dir(module) if not n.startswith("_"))
            raise RuntimeError(
                f"{spec.source} has no '{spec.target}' target for function {spec.name} "
                f"(found: {found})"
            )
        native = getattr(target, "__stratus_function__", None)
        self.http: HttpFunction | None = native if isinstance(native, HttpFunction) else None
        self.event: EventFunction | None = native if isinstance(native, EventFunction) else None
        self.flask: WsgiApp | None = None
        if native is None:
            import functions_framework  # only for plain functions-framework targets

            self.flask = functions_framework.create_app(
                spec.target, str(root / spec.source), spec.signature_type
            )


class _Chunks:
    """A streaming body as a WSGI iterable whose `close()` reaches the producer."""

    def __init__(self, response: StreamingResponse) -> None:
        self._response = response
        self._chunks = iter(response)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._response.close()


def _unreachable(request: Request) -> Response:
    raise AssertionError("the host only matches routes; functions route again themselves")


class Host:
    """WSGI callable serving the manifest's functions."""

    def __init__(self, manifest: Manifest, *, push_token: str = "", ready_file: str = "") -> None:
        self.manifest = manifest
        self.push_token = push_token
        self.ready_file = ready_file
        self._ready = False
        self.functions = {
            name: _Loaded(spec, manifest.root) for name, spec in manifest.functions.items()
        }
        self.router = Router()
        self._owners: dict[tuple[str, str], _Loaded] = {}
        for route, spec in manifest.routes():
            self.router.add(route.method, route.path, _unreachable)
            added = list(self.router)[-1]
            self._owners[(added.method, added.pattern)] = self.functions[spec.name]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ["REQUEST_METHOD"].upper()
        try:
            if path == "/healthz":
                response = self._health()
            elif path.startswith(EVENTS_PREFIX):
                return self._event(environ, start_response, path[len(EVENTS_PREFIX) :], method)
            else:
                return self._http(environ, start_response, path, method)
        except StratusError as error:
            response = error_response(error)
        return self._respond(start_response, response)

    @staticmethod
    def _respond(start_response: StartResponse, response: Response) -> Iterable[bytes]:
        if isinstance(response, StreamingResponse):  # sent chunk by chunk; granian calls close()
            start_response(_status_line(response.status), list(response.headers.items()))
            return _Chunks(response)
        headers = list(response.headers.items())
        headers.append(("content-length", str(len(response.body))))
        start_response(_status_line(response.status), headers)
        return [response.body]

    def _health(self) -> Response:
        if not self._ready:
            self._ready = not self.ready_file or os.path.exists(self.ready_file)
        if not self._ready:
            return json_response({"status": "starting"}, 503)
        return json_response({"status": "ok", "functions": sorted(self.functions)})

    def _http(
        self, environ: dict[str, Any], start_response: StartResponse, path: str, method: str
    ) -> Iterable[bytes]:
        route, _ = self.router.match(method, path)
        loaded = self._owners[(route.method, route.pattern)]
        if loaded.flask is not None:
            return loaded.flask(environ, start_response)
        assert loaded.http is not None
        try:
            body = _read_body(environ, loaded.http.max_body_bytes)
        except StratusError as error:
            return self._respond(start_response, loaded.http.reject(error))
        request = Request(
            method=method,
            path=path.encode("latin-1").decode("utf-8", "replace"),
            headers=_headers(environ),
            body=body,
            query_string=environ.get("QUERY_STRING", ""),
            remote_addr=str(environ.get("REMOTE_ADDR") or ""),
        )
        response = loaded.http(request)
        if method == "HEAD" and isinstance(response, StreamingResponse):
            response.close()  # headers only: the stream is never started
            response = Response(response.status, b"", response.headers)
        return self._respond(start_response, response)

    def _event(
        self, environ: dict[str, Any], start_response: StartResponse, name: str, method: str
    ) -> Iterable[bytes]:
        loaded = self.functions.get(name)
        if loaded is None or loaded.spec.kind != "event":
            raise NotFound(f"no event function named {name!r}")
        if method != "POST":
            raise MethodNotAllowed("events are delivered with POST", allow=["POST"])
        request = Request(method=method, path="", query_string=environ.get("QUERY_STRING", ""))
        token = request.arg("token") or ""
        if not hmac.compare_digest(token.encode(), self.push_token.encode()):
            raise PermissionDenied("push token missing or wrong")
        if loaded.flask is not None:
            return loaded.flask(environ, start_response)
        assert loaded.event is not None
        message = read_push(_read_body(environ, PUSH_BODY_LIMIT), _headers(environ))
        return self._respond(start_response, answer(loaded.event, message))


def create_app() -> Host:
    """Granian factory: build the host in each worker from the environment the supervisor set."""
    die_with_parent()
    claim_accounts(os.environ)  # before any function builds its broker clients
    config = settings()
    logs.configure(config.log_level, "host")
    manifest = load(os.environ.get("STRATUS_MANIFEST", "serverless.yml"))
    if str(manifest.root) not in sys.path:
        sys.path.append(str(manifest.root))  # handlers are paths relative to the manifest
    host = Host(
        manifest,
        push_token=os.environ.get("STRATUS_PUSH_TOKEN", ""),
        ready_file=os.environ.get("STRATUS_READY_FILE", ""),
    )
    server_collector()
    _log.info("host worker ready with %d functions", len(host.functions))
    return host
