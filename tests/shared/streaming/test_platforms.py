"""One streaming function on every platform: the emulator's host and functions-framework send
Server-Sent Events as they are produced and close the producer when the client leaves; OpenWhisk,
which cannot stream, answers 501 with a reason."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import functions_framework
import httpx
import pytest

from tests.support.host import ROOT, RunningHost, running_host
from tests.support.waiting import until

TICKER = ROOT / "tests/fixtures/ticker/main.py"
MANIFEST = ROOT / "tests/fixtures/streaming.yml"
ticker = importlib.import_module("tests.fixtures.ticker.main")


def events(lines: Iterator[str], count: int) -> list[dict[str, str]]:
    """The first `count` events of an SSE body, each as its fields."""
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in current:
                out.append(current)
                if len(out) == count:
                    return out
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = value
    return out


def test_functions_framework_streams_and_closes_the_producer(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TICKER_CLOSED_DIR", str(tmp_path))
    client = functions_framework.create_app("http", str(TICKER), "http").test_client()
    response = client.get("/ticks?count=2&tag=ff", headers={"last-event-id": "3"}, buffered=False)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "content-length" not in response.headers
    lines = (line for chunk in response.response for line in chunk.decode().split("\n"))
    got = events(lines, 4)
    assert [e["id"] for e in got] == ["4", "5", "6", "7"]  # resumed after 3, nothing skipped
    assert json.loads(got[0]["data"]) == {"n": 4} and got[0]["event"] == "tick"
    assert not (tmp_path / "ff").exists()
    response.close()  # the client leaves
    assert (tmp_path / "ff").read_text() == "closed"


def test_openwhisk_answers_501_and_never_starts_the_stream(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TICKER_CLOSED_DIR", str(tmp_path))
    result = ticker.main(
        {"__ow_method": "get", "__ow_path": "/ticks", "__ow_query": "tag=ow", "__ow_body": ""}
    )
    assert result["statusCode"] == 501
    error = json.loads(result["body"])["error"]
    assert error["code"] == "not_implemented"
    assert "OpenWhisk web actions cannot" in error["message"]
    assert result["headers"]["x-request-id"]
    # the plain route of the same action still works
    plain = ticker.main({"__ow_method": "get", "__ow_path": "/plain", "__ow_body": ""})
    assert plain["statusCode"] == 200
    assert json.loads(plain["body"]) == {"ok": True}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, Path]]:
    closed = tmp_path_factory.mktemp("closed")
    with running_host(MANIFEST, TICKER_CLOSED_DIR=str(closed)) as running:
        yield running, closed


@pytest.mark.process
@pytest.mark.e2e
def test_the_host_streams_events_as_they_come_and_resumes(host) -> None:
    running, closed = host
    with httpx.stream(
        "GET", f"{running.base_url}/ticks?count=1&tag=host", headers={"last-event-id": "10"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["x-request-id"]
        assert "content-length" not in response.headers
        # the stream lasts 30 s: reading 3 events proves they are sent before the body ends
        got = events(response.iter_lines(), 3)
    assert [e["id"] for e in got] == ["11", "12", "13"]
    # the producer is closed once the server notices the client left (its next write)
    assert until(lambda: (closed / "host").exists(), timeout=10)


@pytest.mark.process
@pytest.mark.e2e
def test_open_streams_do_not_starve_the_host(host) -> None:
    """One worker holds 40 open streams and still answers plain requests."""
    running, _ = host
    opened = threading.Barrier(41)
    stop = threading.Event()

    def listen(index: int) -> None:
        with httpx.stream("GET", f"{running.base_url}/ticks?limit=0&tag=s{index}") as response:
            opened.wait(timeout=30)
            for _ in response.iter_lines():
                if stop.is_set():
                    return

    threads = [threading.Thread(target=listen, args=(i,), daemon=True) for i in range(40)]
    for thread in threads:
        thread.start()
    try:
        opened.wait(timeout=30)
        answers = [httpx.get(f"{running.base_url}/plain", timeout=10) for _ in range(10)]
        assert [a.status_code for a in answers] == [200] * 10
    finally:
        stop.set()
    for thread in threads:
        thread.join(timeout=10)


@pytest.mark.process
@pytest.mark.e2e
def test_head_on_a_stream_sends_headers_only(host) -> None:
    running, _ = host
    response = httpx.head(f"{running.base_url}/ticks?tag=head", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.content == b""
