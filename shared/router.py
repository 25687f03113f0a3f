"""Method-and-path routing for HTTP functions, with `{name}` path parameters."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from shared.errors import MethodNotAllowed, NotFound
from shared.http import Request, Response

__all__ = ["Handler", "Route", "Router", "normalize_path"]

Handler = Callable[[Request], Response]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def normalize_path(path: str) -> str:
    """Collapse a trailing slash ('/api/devices/' is '/api/devices'), keep '/' itself."""
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path or "/"


@dataclass(frozen=True, slots=True)
class Route:
    """One method + path pattern and its handler."""

    method: str
    pattern: str
    handler: Handler
    regex: re.Pattern[str]

    @classmethod
    def build(cls, method: str, pattern: str, handler: Handler) -> Route:
        pattern = normalize_path(pattern)
        parts, pos = [], 0
        for match in _PARAM.finditer(pattern):
            parts.append(re.escape(pattern[pos : match.start()]))
            parts.append(f"(?P<{match.group(1)}>[^/]+)")
            pos = match.end()
        parts.append(re.escape(pattern[pos:]))
        return cls(method.upper(), pattern, handler, re.compile("^" + "".join(parts) + "$"))


class Router:
    """Routes requests to handlers; unknown paths are 404, known paths with other methods 405."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator registering `handler` for `method pattern`."""

        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return register

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(Route.build(method, pattern, handler))

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for this request and its path parameters, or NotFound/MethodNotAllowed."""
        path = normalize_path(path)
        allowed: list[str] = []
        for route in self._routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict()
            if route.method not in allowed:  # two patterns can match one path (`self`, `{id}`)
                allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(
                f"method {method} is not allowed on {path}; allowed: {', '.join(allowed)}",
                allow=allowed,
            )
        raise NotFound(f"no endpoint at {path}")

    def __call__(self, request: Request) -> Response:
        route, params = self.match(request.method, request.path)
        request.path_params = params
        return route.handler(request)
