"""Reading data with a user or consumer token: readings and aggregates as iterators that page by
themselves, CSV, latest values, and a live subscription (Server-Sent Events) that reconnects
with Last-Event-ID, so a dropped connection loses nothing."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
from httpx_sse import connect_sse

from stratus_sdk._http import Session
from stratus_sdk.errors import (
    ConnectionFailed,
    StratusError,
    error_for,
    from_response,
    is_transient,
)
from stratus_sdk.models import DataPoint, StreamEvent
from stratus_sdk.retry import Backoff

__all__ = ["ConsumerClient"]

_log = logging.getLogger("stratus_sdk.consumer")

Time = int | str | datetime | None  # ns, API text (`1790000000s`, RFC 3339) or a datetime


def _time(value: Time) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime needs a time zone")
        return value.isoformat()
    return str(int(value))


class ConsumerClient(Session):
    """Data of the sensors a token may read (a user's: its organisation's; a consumer's: the
    sensors granted to it)."""

    def _data_path(self, device: str, sensor: str) -> str:
        return f"/api/devices/{device}/sensors/{sensor}/data"

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[DataPoint]:
        cursor = None
        while True:
            page = self.http.json("GET", path, params={**params, "cursor": cursor})
            for row in page["data"]:
                yield DataPoint(int(row["timestamp"]), row["value"])
            cursor = page.get("next")
            if not cursor:
                return

    def readings(
        self, device: str, sensor: str, *, start: Time = None, end: Time = None,
        order: str = "asc", page_size: int = 1000,
    ) -> Iterator[DataPoint]:  # fmt: skip
        """Every reading in [start, end), in order, fetched a page at a time as you iterate."""
        params = {"from": _time(start), "to": _time(end), "order": order, "limit": page_size}
        return self._pages(self._data_path(device, sensor), params)

    def aggregates(
        self, device: str, sensor: str, agg: str, every: str, *, start: Time = None,
        end: Time = None, order: str = "asc", page_size: int = 1000,
    ) -> Iterator[DataPoint]:  # fmt: skip
        """One point per non-empty interval of `every` (`1m`, `1h`...): `agg` is mean, min, max,
        sum, count, first or last; `timestamp` is the interval's start."""
        params = {"from": _time(start), "to": _time(end), "order": order, "limit": page_size,
                  "agg": agg, "every": every}  # fmt: skip
        return self._pages(self._data_path(device, sensor), params)

    def csv(
        self, device: str, sensor: str, *, start: Time = None, end: Time = None,
        page_size: int = 10_000, **params: Any,
    ) -> Iterator[str]:  # fmt: skip
        """The readings (or, with `agg` and `every`, aggregates) as CSV lines, the header once."""
        query = {"from": _time(start), "to": _time(end), "limit": page_size, "format": "csv",
                 **params}  # fmt: skip
        cursor, first = None, True
        while True:
            response = self.http.request(
                "GET", self._data_path(device, sensor), params={**query, "cursor": cursor}
            )
            lines = response.text.splitlines()
            yield from lines if first else lines[1:]
            first = False
            cursor = response.headers.get("x-next-cursor")
            if not cursor:
                return

    def latest(self, device: str, sensor: str) -> DataPoint | None:
        """The sensor's newest reading, None before the first."""
        rows = self.http.json("GET", self._data_path(device, sensor) + "/latest")["data"]
        return DataPoint(int(rows[0]["timestamp"]), rows[0]["value"]) if rows else None

    def device_latest(self, device: str) -> dict[str, DataPoint | None]:
        """The newest reading of each readable sensor of the device, by sensor id."""
        rows = self.http.json("GET", f"/api/devices/{device}/data/latest")["data"]
        return {
            row["sensor_id"]: None
            if row["timestamp"] is None
            else DataPoint(int(row["timestamp"]), row["value"])
            for row in rows
        }

    def subscribe(
        self, device: str, sensor: str | None = None, *, last_event_id: str | None = None,
        reconnect: bool = True, backoff: Backoff | None = None, read_timeout: float = 60.0,
    ) -> Iterator[StreamEvent]:  # fmt: skip
        """Each new stored reading of the sensor (or of every readable sensor of the device) as
        it arrives. Resumes after `last_event_id`; without it, starts with what is stored from
        now on. When the connection drops or the server ends the stream, it reconnects with the
        last id it saw (unless `reconnect` is False), so no reading is missed."""
        path = f"/api/devices/{device}" + (f"/sensors/{sensor}" if sensor else "") + "/stream"
        backoff = backoff or Backoff(initial=0.5, maximum=10)
        failures, cursor = 0, last_event_id
        while True:
            try:
                for event in self._stream(path, cursor, read_timeout):
                    cursor, failures = event.id, 0
                    yield event
            except StratusError as error:
                if not (reconnect and is_transient(error)):
                    raise
                _log.info("stream interrupted (%s); reconnecting after %s", error, cursor)
                time.sleep(backoff.delay(failures, error.retry_after))
                failures += 1
                continue
            if not reconnect:
                return

    def _stream(self, path: str, cursor: str | None, read_timeout: float) -> Iterator[StreamEvent]:
        headers = self.http.headers()  # connect_sse asks for text/event-stream itself
        if cursor:
            headers["last-event-id"] = cursor
        timeout = httpx.Timeout(10.0, read=read_timeout)
        try:
            with connect_sse(
                self.http.client, "GET", path, headers=headers, timeout=timeout
            ) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    raise from_response(source.response)
                for sse in source.iter_sse():
                    if sse.event == "error":  # the server ended the stream: say why
                        body = json.loads(sse.data or "{}")
                        status = int(body.get("status", 503))
                        raise error_for(status, str(body.get("message", "stream error")), "stream")
                    if sse.event != "reading":
                        continue
                    data = json.loads(sse.data)
                    yield StreamEvent(
                        sse.id, data["device_id"], data["sensor_id"], int(data["timestamp"]),
                        data["value"],
                    )  # fmt: skip
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"stream {path}: {type(exc).__name__}: {exc}") from exc
