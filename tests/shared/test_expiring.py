"""shared.expiring.ExpiringMap: values expire after the TTL (or a shorter age asked for), the map
stays within its limit (expired values dropped first, then the first stored), a TTL of 0 keeps
nothing, and a value stored at an earlier time expires from then."""

from __future__ import annotations

from shared.expiring import ExpiringMap


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_lives_for_the_ttl_or_a_shorter_age() -> None:
    clock = Clock()
    values: ExpiringMap[str, int] = ExpiringMap(5, clock=clock)
    values.put("a", 1)
    clock.now += 4.99
    assert values.get("a") == 1
    assert values.get("a", max_age=1) is None
    clock.now += 0.01
    assert values.get("a") is None
    assert values.get("missing") is None


def test_a_value_read_earlier_expires_from_when_it_was_read() -> None:
    clock = Clock()
    values: ExpiringMap[str, int] = ExpiringMap(5, clock=clock)
    read_at = clock.now
    clock.now += 3  # a slow read
    values.put("a", 1, at=read_at)
    clock.now += 2
    assert values.get("a") is None


def test_a_ttl_of_zero_keeps_nothing() -> None:
    values: ExpiringMap[str, int] = ExpiringMap(0)
    values.put("a", 1)
    assert values.get("a") is None and len(values) == 0


def test_the_map_stays_within_its_limit_expired_values_first() -> None:
    clock = Clock()
    values: ExpiringMap[int, int] = ExpiringMap(10, limit=4, clock=clock)
    for key in range(4):
        values.put(key, key)
        clock.now += 1
    values.put(4, 4)  # full, none expired: the first stored goes
    assert len(values) == 4 and values.get(0) is None and values.get(1) == 1
    clock.now += 8  # 1, 2 expired (stored at 101, 102); 3, 4 live
    values.put(5, 5)
    assert len(values) == 3 and [values.get(k) for k in (3, 4, 5)] == [3, 4, 5]
    values.put(5, 6)  # replacing a key never evicts
    assert len(values) == 3 and values.get(5) == 6
    values.clear()
    assert len(values) == 0
