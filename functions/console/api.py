"""HTTP routes of the console function: the page at /console/ and its files, public (the page
holds no data; it signs in through the API like any client)."""

from __future__ import annotations

from collections.abc import Callable

from functions.console.service import INDEX, Catalogue
from shared.http import Request, Response
from shared.router import Router

__all__ = ["CACHE_CONTROL", "build_router"]

# Revalidate every time (the names carry no version): an unchanged file costs a 304
CACHE_CONTROL = "no-cache"


def _answer(catalogue: Catalogue, name: str, request: Request) -> Response:
    delivery = catalogue.deliver(
        name,
        accept_encoding=request.header("accept-encoding"),
        if_none_match=request.header("if-none-match"),
    )
    headers = {
        "etag": delivery.asset.etag,
        "cache-control": CACHE_CONTROL,
        "vary": "accept-encoding",
    }
    if delivery.not_modified:
        return Response(304, b"", headers)
    headers["content-type"] = delivery.asset.content_type
    if delivery.encoding:
        headers["content-encoding"] = delivery.encoding
    return Response(200, delivery.body, headers)


def build_router(catalogue: Callable[[], Catalogue]) -> Router:
    """The routes over the console's files, read on first use (`catalogue()` caches them)."""
    router = Router()

    @router.route("GET", "/console")
    def page(request: Request) -> Response:
        """The console's page; `/console` is sent to `/console/` so relative links resolve."""
        if not request.path.endswith("/"):
            return Response(308, b"", {"location": "console/", "cache-control": CACHE_CONTROL})
        return _answer(catalogue(), INDEX, request)

    @router.route("GET", "/console/{name}")
    def asset(request: Request) -> Response:
        """A module, style sheet or image of the console."""
        return _answer(catalogue(), request.path_params["name"], request)

    @router.route("GET", "/console/vendor/{name}")
    def vendored(request: Request) -> Response:
        """A vendored library (`vendor/README.md`)."""
        return _answer(catalogue(), "vendor/" + request.path_params["name"], request)

    return router
