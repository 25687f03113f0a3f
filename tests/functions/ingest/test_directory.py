"""The cached sensor-id lookup: answers reused for the TTL, `fresh` reads again, 0 = no cache."""

from __future__ import annotations

from functions.ingest.directory import CachedSensorIds


class Lookup:
    def __init__(self) -> None:
        self.ids = {"s1"}
        self.reads = 0

    def __call__(self, org: str, device: str) -> frozenset[str]:
        self.reads += 1
        return frozenset(self.ids)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_answers_are_reused_for_the_ttl_then_read_again() -> None:
    lookup, clock = Lookup(), Clock()
    cached = CachedSensorIds(lookup, ttl=5, clock=clock)
    assert cached("o", "d") == {"s1"}
    lookup.ids.add("s2")
    clock.now += 4.9
    assert cached("o", "d") == {"s1"}
    assert lookup.reads == 1
    clock.now += 0.2
    assert cached("o", "d") == {"s1", "s2"}
    assert lookup.reads == 2


def test_fresh_reads_again_and_refreshes_the_cache() -> None:
    lookup, clock = Lookup(), Clock()
    cached = CachedSensorIds(lookup, ttl=5, clock=clock)
    cached("o", "d")
    lookup.ids = {"s3"}
    assert cached("o", "d", fresh=True) == {"s3"}
    assert cached("o", "d") == {"s3"}
    assert lookup.reads == 2


def test_devices_are_cached_apart_and_ttl_zero_never_caches() -> None:
    lookup, clock = Lookup(), Clock()
    cached = CachedSensorIds(lookup, ttl=5, clock=clock)
    cached("o", "d1")
    cached("o", "d2")
    assert lookup.reads == 2
    uncached = CachedSensorIds(lookup, ttl=0, clock=clock)
    uncached("o", "d1")
    uncached("o", "d1")
    assert lookup.reads == 4
