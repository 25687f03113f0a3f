"""The coalescer on the in-memory bus: windows per organisation, published when full, due or
flushed; one body alone keeps today's message; a failed publish fails exactly its bodies."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future

import orjson
import pytest

from shared.errors import Unavailable
from shared.telemetry.coalesce import Coalescer, Coalescing, Pending, encode_entry
from tests.support.memory_bus import MemoryBus
from tests.support.waiting import until

TOPIC = "telemetry-raw"
A, B = "a" * 20, "b" * 20


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pending(org: str = A, device: str = "d1", n: int = 0, key: str | None = None) -> Pending:
    body = orjson.dumps({"sensor_id": "s1", "timestamp": 1_790_000_000 + n, "value": n})
    return Pending(org, device, "reference", 1_000 + n, body, f"req-{n}", key)


def coalescer(bus: MemoryBus, window_ms: float = 60_000, **bounds: int) -> Coalescer:
    """Windows that wait for their time, size or a flush (in_flight 0: never published early)."""
    config = Coalescing(window_ms, **({"in_flight": 0} | bounds))
    return Coalescer(bus, TOPIC, "http", config, clock=Clock())


def test_two_organisations_never_share_a_message() -> None:
    bus = MemoryBus()
    c = coalescer(bus)
    bodies = [pending(A, n=1), pending(B, n=2), pending(A, n=3), pending(B, "d2", n=4)]
    for each in bodies:
        c.add(each)
    assert bus.published == []  # held until the window closes
    c.flush()
    by_org = {m.attributes["org"]: m for m in bus.messages(TOPIC)}
    assert set(by_org) == {A, B} and len(bus.published) == 2
    entries = {org: orjson.loads(m.data) for org, m in by_org.items()}
    assert [e["request_id"] for e in entries[A]] == ["req-1", "req-3"]
    assert [e["device"] for e in entries[B]] == ["d1", "d2"]
    assert by_org[A].attributes["device"] == "d1"  # one device: named, as the bridge does
    assert "device" not in by_org[B].attributes
    assert all(p.future.result(0) for p in bodies)


def test_a_batch_is_the_fleet_format_with_the_bodies_as_sent() -> None:
    bus = MemoryBus()
    c = coalescer(bus)
    first, second = pending(n=1), pending(n=7, key="retry-7")
    c.add(first)
    c.add(second)
    c.flush()
    [message] = bus.published
    assert message.attributes == {
        "org": A,
        "device": "d1",
        "format": "batch",
        "received_ns": "1007",
        "transport": "http",
        "request_id": "req-1+1",
    }
    assert orjson.loads(message.data) == [
        {"format": "reference", "received_ns": 1001, "device": "d1", "request_id": "req-1",
         "payload": orjson.loads(first.body)},
        {"format": "reference", "received_ns": 1007, "device": "d1", "request_id": "req-7",
         "idempotency_key": "retry-7", "payload": orjson.loads(second.body)},
    ]  # fmt: skip
    assert first.future.result(0) == second.future.result(0) == message.id


def test_one_body_alone_is_published_as_without_coalescing() -> None:
    bus = MemoryBus()
    c = coalescer(bus)
    alone = pending(n=5, key="k5")
    c.add(alone)
    c.flush()
    [message] = bus.published
    assert message.data == alone.body
    assert message.attributes == {
        "org": A, "device": "d1", "format": "reference", "received_ns": "1005",
        "transport": "http", "request_id": "req-5", "idempotency_key": "k5",
    }  # fmt: skip


def test_a_full_window_is_published_by_the_body_that_fills_it() -> None:
    bus = MemoryBus()
    c = coalescer(bus, max_bodies=3)
    bodies = [pending(n=n) for n in range(7)]
    for each in bodies:
        c.add(each)
    assert [len(orjson.loads(m.data)) for m in bus.published] == [3, 3]
    assert [p.future.done() for p in bodies] == [True] * 6 + [False]
    c.close()
    assert bodies[-1].future.result(0)


def test_the_byte_bound_publishes_the_window_before_it_would_overflow() -> None:
    bus = MemoryBus()
    size = len(encode_entry(pending()))
    c = coalescer(bus, max_bytes=2 * size + 200)
    for n in range(3):
        c.add(pending(n=n))
    assert len(bus.published) == 1 and len(orjson.loads(bus.published[0].data)) == 2
    c.flush()
    assert len(bus.published) == 2


def test_a_window_is_published_once_it_is_due() -> None:
    bus = MemoryBus()
    c = Coalescer(bus, TOPIC, "http", Coalescing(window_ms=2, in_flight=0))  # real clock
    bodies = [pending(n=n) for n in range(3)]
    for each in bodies:
        c.add(each)
    assert until(lambda: all(p.future.done() for p in bodies), timeout=10)
    assert sum(len(orjson.loads(m.data)) if m.attributes["format"] == "batch" else 1
               for m in bus.published) == 3  # fmt: skip
    c.close()


def test_a_failed_publish_fails_exactly_the_bodies_of_that_message() -> None:
    bus = MemoryBus()
    c = coalescer(bus)
    doomed = [pending(A, n=1), pending(A, n=2)]
    spared = [pending(B, n=3)]
    for each in doomed + spared:
        c.add(each)
    bus.fail_next(1)  # the first message published: A's window, opened first
    c.flush()
    for each in doomed:
        with pytest.raises(Unavailable):
            each.future.result(0)
    assert spared[0].future.result(0)
    assert [m.attributes["org"] for m in bus.published] == [B]


def test_a_bus_refusing_outright_fails_the_window_and_the_next_one_goes_through() -> None:
    bus = MemoryBus()
    c = coalescer(bus)
    c.add(first := pending(n=1))
    bus.closed = True
    c.flush()
    with pytest.raises(Unavailable):
        first.future.result(0)
    bus.closed = False
    c.add(second := pending(n=2))
    c.flush()
    assert second.future.result(0)


def test_after_close_nothing_is_held() -> None:
    bus = MemoryBus()
    c = coalescer(bus)
    c.add(held := pending(n=1))
    c.close()
    assert held.future.result(0)
    with pytest.raises(Unavailable):
        c.add(pending(n=2))


class HeldBus(MemoryBus):
    """A bus whose confirmations wait until `release()`: messages stay in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[Future[str], Future[str]]] = []

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Future[str]:
        inner, outer = super().publish(topic, data, attributes), Future[str]()
        self.held.append((inner, outer))
        return outer

    def release(self) -> None:
        held, self.held = self.held, []
        for inner, outer in held:
            outer.set_result(inner.result(0))


def test_bodies_go_at_once_while_the_bus_has_room_then_share_the_next_message() -> None:
    bus = HeldBus()
    c = Coalescer(bus, TOPIC, "http", Coalescing(60_000, in_flight=2), clock=Clock())
    first, second, *rest = [pending(n=n) for n in range(5)]
    c.add(first)
    c.add(second)
    assert len(bus.published) == 2  # each alone, at once: no wait at low load
    for each in rest:
        c.add(each)
    assert len(bus.published) == 2  # two unconfirmed: the others wait in a window
    bus.release()  # a confirmation lets the waiting window go
    assert len(bus.published) == 3
    assert [e["request_id"] for e in orjson.loads(bus.published[2].data)] == [
        "req-2",
        "req-3",
        "req-4",
    ]
    bus.release()
    assert all(p.future.result(0) for p in [first, second, *rest])
    c.close()


def test_concurrent_adders_lose_and_repeat_nothing() -> None:
    bus = MemoryBus()
    c = Coalescer(bus, TOPIC, "http", Coalescing(window_ms=1, max_bodies=16))
    futures: list[Future[str]] = []
    lock = threading.Lock()

    def send(thread: int) -> None:
        for n in range(50):
            p = pending(A if n % 2 else B, n=thread * 1000 + n)
            c.add(p)
            with lock:
                futures.append(p.future)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert until(lambda: all(f.done() for f in futures), timeout=10)
    sent = []
    for message in bus.published:
        data = orjson.loads(message.data)
        entries = data if message.attributes["format"] == "batch" else [{"payload": data}]
        assert all(e.get("device", "d1") == "d1" for e in entries)
        sent += [e["payload"]["value"] for e in entries]
    assert sorted(sent) == sorted(t * 1000 + n for t in range(8) for n in range(50))
    c.close()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, Coalescing(5.0, 256 * 1024, 1000, 1)),
        ({"STRATUS_INGEST_WINDOW_MS": "0"}, Coalescing(0.0, 256 * 1024, 1000, 1)),
        ({"STRATUS_INGEST_WINDOW_MS": "2.5", "STRATUS_INGEST_WINDOW_BODIES": "50",
          "STRATUS_INGEST_IN_FLIGHT": "0"}, Coalescing(2.5, 256 * 1024, 50, 0)),
    ],
)  # fmt: skip
def test_settings_from_the_environment(env: dict[str, str], expected: Coalescing) -> None:
    assert Coalescing.from_env(env) == expected
    assert expected.enabled == (expected.window_ms > 0)


@pytest.mark.parametrize("raw", ["soon", "-1", "5000"])
def test_bad_settings_name_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="STRATUS_INGEST_WINDOW_MS"):
        Coalescing.from_env({"STRATUS_INGEST_WINDOW_MS": raw})
