"""HTTP routes of the streams function: a sensor's or a device's new readings as Server-Sent
Events, for the same callers as the query API (users of the organisation, consumers granted the
sensors; device tokens 403; unknown, foreign or ungranted ids 404)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from functions.streams.feed import Cursor, ReadingFeed, Target
from shared.access import Access
from shared.auth import Principal, require
from shared.directory import version_lookup
from shared.errors import PermissionDenied
from shared.http import Request, Response
from shared.router import Router
from shared.store import Store
from shared.streaming import StreamSettings, last_event_id, sse_response

__all__ = ["READERS", "StreamConfig", "build_router"]

READERS = ("user", "consumer")


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """The SSE behaviour, how late a stored chunk may be and still be streamed, and how often a
    stream re-checks the caller's token and access."""

    sse: StreamSettings
    late_seconds: int = 30
    recheck_seconds: float = 10.0


def build_router(
    store: Callable[[], Store], access: Callable[[], Access], config: Callable[[], StreamConfig]
) -> Router:
    """The routes over lazily built ports."""
    router = Router()

    def still_allowed(principal: Principal) -> None:
        if version_lookup(store)(principal) != principal.version:
            raise PermissionDenied("token revoked: the stream ends")

    def open_stream(request: Request, targets: Callable[[], Sequence[Target]]) -> Response:
        resume = last_event_id(request.headers, request.query)
        cursor = Cursor.decode(resume) if resume else Cursor.after_time(time.time_ns() // 1000)
        settings = config()
        feed = ReadingFeed(
            store(),
            targets,
            cursor,
            late_ns=settings.late_seconds * 10**9,
            recheck_seconds=settings.recheck_seconds,
        )
        return sse_response(feed, settings.sse)

    @router.route("GET", "/api/devices/{device_id}/sensors/{sensor_id}/stream")
    def sensor_stream(request: Request) -> Response:
        """Each new stored reading of the sensor, from now or after Last-Event-ID."""
        principal = require(request, kinds=READERS)
        device, sensor = request.path_params["device_id"], request.path_params["sensor_id"]

        def targets() -> list[Target]:
            still_allowed(principal)
            access().sensor(principal, device, sensor)  # 404 once it is gone or ungranted
            return [Target(principal.org, device, sensor)]

        access().sensor(principal, device, sensor)  # refused before the stream starts
        return open_stream(request, targets)

    @router.route("GET", "/api/devices/{device_id}/stream")
    def device_stream(request: Request) -> Response:
        """Each new stored reading of every sensor of the device the caller may read."""
        principal = require(request, kinds=READERS)
        device = request.path_params["device_id"]

        def targets() -> list[Target]:
            still_allowed(principal)
            visible = access().device_sensors(principal, device)
            return [Target(principal.org, device, sensor.id) for sensor in visible]

        access().device_sensors(principal, device)  # 404 before the stream starts
        return open_stream(request, targets)

    return router
