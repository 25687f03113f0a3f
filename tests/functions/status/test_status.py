"""The status function, the template every function copies: its core on checks, its router, and
its entry points (OpenWhisk `main`, functions-framework `http`) on the Firestore emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import functions_framework
import pytest

from functions.status import main
from functions.status.api import build_router
from functions.status.service import VERSION, Status, store_check
from shared import clients
from shared.http import Request
from shared.settings import settings
from shared.store import Store
from tests.support.host import ROOT
from tests.support.services import RunningService


def _fails() -> None:
    raise ConnectionError("no answer")


def test_a_report_is_healthy_when_every_check_passes() -> None:
    report = Status("p1", {"store": lambda: None}).report()
    assert report.healthy
    assert report.body["status"] == "ok"
    assert report.body["version"] == VERSION
    assert report.body["project"] == "p1"
    store = report.body["dependencies"]["store"]  # type: ignore[index]
    assert store["status"] == "ok" and store["latency_ms"] >= 0


def test_one_failing_check_degrades_the_report_and_names_the_error() -> None:
    report = Status("p1", {"store": _fails, "bus": lambda: None}).report()
    assert not report.healthy
    assert report.body["status"] == "degraded"
    assert report.body["dependencies"] == {
        "store": {"status": "unavailable", "error": "ConnectionError"},
        "bus": {"status": "ok", "latency_ms": report.body["dependencies"]["bus"]["latency_ms"]},  # type: ignore[index]
    }


def test_a_store_that_cannot_be_built_is_reported_not_raised() -> None:
    def unbuildable() -> Store:
        raise RuntimeError("no credentials")

    report = Status("p1", {"store": store_check(unbuildable)}).report()
    assert report.body["dependencies"] == {
        "store": {"status": "unavailable", "error": "RuntimeError"}
    }


def test_the_router_answers_503_when_degraded_and_builds_the_core_once() -> None:
    built: list[Status] = []

    def core() -> Status:
        if not built:
            built.append(Status("p1", {"store": _fails}))
        return built[0]

    router = build_router(core)
    for _ in range(2):
        response = router(Request("GET", "/api/status"))
        assert response.status == 503
        assert json.loads(response.body)["status"] == "degraded"
    assert len(built) == 1


@pytest.fixture
def wired(firestore: RunningService, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The function's own wiring, pointed at the session's Firestore emulator."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
    monkeypatch.setenv("STRATUS_PROJECT", "status-test")
    caches = (settings, clients.store, main._status)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


@pytest.mark.process
def test_both_platforms_report_the_store_healthy(wired: None) -> None:
    result = main.main({"__ow_method": "get", "__ow_path": "/api/status", "__ow_headers": {}})
    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert body["project"] == "status-test"
    assert body["dependencies"]["store"]["status"] == "ok"
    source = str(ROOT / "functions/status/main.py")
    client = functions_framework.create_app("http", source, "http").test_client()
    answer = client.get("/api/status")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "ok"
    assert main.http.__stratus_function__ is main.app  # type: ignore[attr-defined]
