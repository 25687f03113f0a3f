"""The consumer client against an httpx MockTransport: pages followed to the end, CSV with its
header once, a live subscription that reconnects with Last-Event-ID and stops on a refusal."""

from __future__ import annotations

import json

import httpx
import pytest
from stratus_sdk import ConsumerClient, DataPoint, NotFound, PermissionDenied, StreamEvent

D, S = "d" * 20, "a" * 20


def consumer(handler) -> ConsumerClient:
    http = httpx.Client(base_url="http://platform", transport=httpx.MockTransport(handler))
    return ConsumerClient("http://platform", "tok", client=http)


def test_readings_follow_every_page() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        cursor = request.url.params.get("cursor")
        page = {None: ([1, 2], "c1"), "c1": ([3], "c2"), "c2": ([], None)}[cursor]
        rows = [{"timestamp": t, "value": t * 1.5} for t in page[0]]
        return httpx.Response(200, json={"data": rows, "next": page[1]})

    with consumer(handler) as client:
        points = list(client.readings(D, S, start=10, end="2026-01-01T00:00:00Z", page_size=2))
    assert points == [DataPoint(1, 1.5), DataPoint(2, 3.0), DataPoint(3, 4.5)]
    assert seen[0] == {"from": "10", "to": "2026-01-01T00:00:00Z", "order": "asc", "limit": "2"}
    assert [p.get("cursor") for p in seen] == [None, "c1", "c2"]


def test_aggregates_csv_and_latest() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path.endswith("/latest"):
            return httpx.Response(200, json={"data": [{"timestamp": 9, "value": 1}]})
        if params.get("format") == "csv":
            more = {"x-next-cursor": "n"} if params.get("cursor") is None else {}
            rows = "timestamp,value\r\n1,2\r\n" if not more else "timestamp,value\r\n0,1\r\n"
            return httpx.Response(200, text=rows, headers=more)
        assert (params["agg"], params["every"]) == ("mean", "1h")
        return httpx.Response(200, json={"data": [{"timestamp": 0, "value": 2.5}], "next": None})

    with consumer(handler) as client:
        assert list(client.aggregates(D, S, "mean", "1h")) == [DataPoint(0, 2.5)]
        assert list(client.csv(D, S)) == ["timestamp,value", "0,1", "1,2"]
        assert client.latest(D, S) == DataPoint(9, 1)


def test_errors_are_typed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"status": 404, "code": "not_found",
                                                   "message": "no sensor"}})  # fmt: skip

    with consumer(handler) as client, pytest.raises(NotFound, match="no sensor"):
        list(client.readings(D, S))


def sse(*events: tuple[str, str, dict]) -> bytes:
    return b"retry: 10\n\n" + b"".join(
        f"id: {i}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode() for i, kind, data in events
    )


def reading(n: int) -> dict:
    return {"device_id": D, "sensor_id": S, "timestamp": n, "value": float(n)}


def test_subscribe_reconnects_with_the_last_event_id_and_stops_when_refused() -> None:
    resumed_from = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/api/devices/{D}/sensors/{S}/stream"
        assert request.headers["accept"] == "text/event-stream"  # (connect_sse sets it)
        resumed_from.append(request.headers.get("last-event-id"))
        bodies = {
            None: sse(("e1", "reading", reading(1)), ("e2", "reading", reading(2))),
            "e2": sse(("e3", "reading", reading(3))) + b": heartbeat\n\n",
            "e3": sse(("e4", "reading", reading(4)),
                      ("", "error", {"status": 503, "message": "store down"})),
            "e4": sse(("", "error", {"status": 403, "message": "token revoked"})),
        }  # fmt: skip
        return httpx.Response(200, content=bodies[request.headers.get("last-event-id")],
                              headers={"content-type": "text/event-stream"})  # fmt: skip

    from stratus_sdk import Backoff

    received: list[StreamEvent] = []
    with consumer(handler) as client, pytest.raises(PermissionDenied, match="token revoked"):
        for event in client.subscribe(D, S, backoff=Backoff(0.001, 0.01)):
            received.append(event)
    assert [e.value for e in received] == [1.0, 2.0, 3.0, 4.0]
    assert received[0] == StreamEvent("e1", D, S, 1, 1.0)
    assert resumed_from == [None, "e2", "e3", "e4"]


def test_subscribe_refused_at_the_door() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"status": 404, "code": "not_found",
                                                   "message": "no device"}})  # fmt: skip

    with consumer(handler) as client, pytest.raises(NotFound):
        next(client.subscribe(D))
