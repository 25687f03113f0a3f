"""HTTP routes of the ingest function: `POST /ingest` and `POST /` (the reference gateway's URL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout

from shared.errors import Unavailable
from shared.http import Request, Response, json_response
from shared.router import Router
from shared.telemetry.ingest import Ingest, idempotency_key

__all__ = ["PUBLISH_TIMEOUT_SECONDS", "build_router"]

PUBLISH_TIMEOUT_SECONDS = 30.0


def build_router(
    ingest: Callable[[], Ingest], *, publish_timeout: float = PUBLISH_TIMEOUT_SECONDS
) -> Router:
    """The routes over an `Ingest` built on first use (`ingest()` is called per request and is
    expected to cache)."""
    router = Router()

    def post(request: Request) -> Response:
        """200 `{"accepted": n}` once the bus confirmed the readings; 400, 401, 403, 415 before
        anything was published; 503 when the bus failed (nothing accepted)."""
        core = ingest()
        device = core.authenticate(request.header("authorization"))
        request_id = str(request.context.get("request_id") or "")
        key = idempotency_key(request.header("idempotency-key"))
        future = core.submit(device, request.body, request_id, request.media_type, key)
        try:
            accepted = future.result(timeout=publish_timeout)
        except FutureTimeout:
            raise Unavailable(
                f"the bus did not confirm the readings within {publish_timeout:g} s; "
                "send them again (with the same idempotency-key)"
            ) from None
        return json_response({"accepted": accepted})

    router.add("POST", "/ingest", post)
    router.add("POST", "/", post)
    return router
