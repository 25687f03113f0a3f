"""HTTP routes of the query API: readings, aggregates and latest values of sensors."""

from __future__ import annotations

import time
from collections.abc import Callable

from functions.query.access import Access
from functions.query.params import parse_data, parse_latest
from functions.query.render import rows_response
from functions.query.service import QueryService
from shared.auth import Principal, require
from shared.http import Request, Response
from shared.router import Router

__all__ = ["READERS", "build_router"]

READERS = ("user", "consumer")  # device tokens read nothing: 403


def build_router(access: Callable[[], Access], service: Callable[[], QueryService]) -> Router:
    """The routes, with their (lazily built) access rules and core."""
    router = Router()

    def caller(request: Request) -> Principal:
        return require(request, kinds=READERS)

    @router.route("GET", "/api/devices/{device_id}/sensors/{sensor_id}/data")
    def get_data(request: Request) -> Response:
        """Readings in [from, to), or aggregates per interval, a page at a time; the time this
        took (token, access, store reads, merging, encoding) in `server-timing: query;dur=ms`."""
        began = time.perf_counter()
        principal = caller(request)
        params = parse_data(request.query, request.header("accept", "") or "")
        device, sensor = request.path_params["device_id"], request.path_params["sensor_id"]
        visible = access().sensor(principal, device, sensor)
        page = service().data(principal.org, device, sensor, params, visible.type)
        response = rows_response(
            ("timestamp", "value"), page.samples, as_csv=params.csv, following=page.next, paged=True
        )
        spent = (time.perf_counter() - began) * 1000
        response.headers["server-timing"] = f"query;dur={spent:.2f}"
        return response

    @router.route("GET", "/api/devices/{device_id}/sensors/{sensor_id}/data/latest")
    def get_sensor_latest(request: Request) -> Response:
        """The sensor's newest reading (an empty list before the first)."""
        principal = caller(request)
        as_csv = parse_latest(request.query, request.header("accept", "") or "")
        device, sensor = request.path_params["device_id"], request.path_params["sensor_id"]
        access().sensor(principal, device, sensor)
        latest = service().latest(principal.org, device, sensor)
        rows = [] if latest is None else [(latest.ts, latest.value)]
        return rows_response(("timestamp", "value"), rows, as_csv=as_csv)

    @router.route("GET", "/api/devices/{device_id}/data/latest")
    def get_device_latest(request: Request) -> Response:
        """The newest reading of each sensor of the device the caller may read (null for a
        sensor without readings)."""
        principal = caller(request)
        as_csv = parse_latest(request.query, request.header("accept", "") or "")
        device = request.path_params["device_id"]
        rows = []
        for sensor in access().device_sensors(principal, device):
            latest = service().latest(principal.org, device, sensor.id)
            ts, value = (None, None) if latest is None else (latest.ts, latest.value)
            rows.append((sensor.id, ts, value))
        return rows_response(("sensor_id", "timestamp", "value"), rows, as_csv=as_csv)

    return router
