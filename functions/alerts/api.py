"""HTTP routes of the alerts function: every user of the organisation reads, acknowledges and
resolves its alerts (handling alerts is operations, not configuration), and can follow a live
Server-Sent Events stream of alert changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from functions.alerts.service import AlertFeed, Alerts, Filters
from shared.auth.guard import require
from shared.directory import page_limit
from shared.errors import BadRequest
from shared.http import Request, Response, json_response
from shared.router import Router
from shared.store import Store
from shared.streaming import StreamSettings, last_event_id, sse_response

__all__ = ["build_router", "parse_time"]

_PARAMS = {"state", "device", "sensor", "rule", "from", "to", "limit", "cursor"}


def parse_time(raw: str | None, name: str) -> int | None:
    """Integer ns since the epoch, or RFC 3339 with an offset."""
    if raw is None or raw == "":
        return None
    if raw.isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is integer ns or RFC 3339", field=name) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} needs an offset (Z or +hh:mm)", field=name)
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def build_router(alerts: Callable[[], Alerts], store: Callable[[], Store]) -> Router:
    """The routes over lazily built cores (`store` feeds the live stream)."""
    router = Router()

    def user(request: Request) -> tuple[str, str]:
        principal = require(request, kinds={"user"})
        return principal.org, f"user:{principal.subject}"

    @router.route("GET", "/api/alerts")
    def list_alerts(request: Request) -> Response:
        """Newest first; filters state, device, sensor, rule, from/to (opened, event time)."""
        org, _ = user(request)
        for name, values in request.query.items():
            if name not in _PARAMS:
                raise BadRequest(f"unknown parameter {name!r}", field=name)
            if len(values) > 1:
                raise BadRequest(f"{name} is given more than once", field=name)
        filters = Filters(
            {k: request.arg(k) for k in ("state", "device", "sensor", "rule")},
            parse_time(request.arg("from"), "from"),
            parse_time(request.arg("to"), "to"),
        )
        limit = page_limit(request.arg("limit"))
        return json_response(alerts().list(org, filters, limit, request.arg("cursor") or None))

    @router.route("GET", "/api/alerts/stream")
    def stream(request: Request) -> Response:
        """Server-Sent Events `alert` with each change from now (or after Last-Event-ID)."""
        org, _ = user(request)
        after = last_event_id(request.headers, request.query)
        feed = AlertFeed(store(), org, after)
        return sse_response(feed, StreamSettings.from_env(os.environ))

    @router.route("GET", "/api/alerts/{alert_id}")
    def get_alert(request: Request) -> Response:
        org, _ = user(request)
        return json_response(alerts().get(org, request.path_params["alert_id"]))

    @router.route("POST", "/api/alerts/{alert_id}/ack")
    def acknowledge(request: Request) -> Response:
        """open -> acknowledged; 409 when resolved."""
        org, by = user(request)
        return json_response(alerts().acknowledge(org, request.path_params["alert_id"], by))

    @router.route("POST", "/api/alerts/{alert_id}/resolve")
    def resolve(request: Request) -> Response:
        """open or acknowledged -> resolved."""
        org, by = user(request)
        return json_response(alerts().resolve(org, request.path_params["alert_id"], by))

    return router
