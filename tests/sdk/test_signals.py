"""The simulator's signals: seeded (same seed, same readings), a daily temperature cycle, humidity
following it, a counter that only grows, positions moving along a loop near the centre, spikes
and silences at their rates."""

from __future__ import annotations

import math

from stratus_sdk.simulate.signals import DAY_S, DeviceSignals, Route

T0 = 1_790_000_000.0 - (1_790_000_000.0 % DAY_S)  # a midnight, UTC


def test_the_same_seed_gives_the_same_readings() -> None:
    a, b = DeviceSignals(7), DeviceSignals(7)
    assert [a.tick(T0 + i) for i in range(50)] == [b.tick(T0 + i) for i in range(50)]
    assert DeviceSignals(8).tick(T0) != DeviceSignals(7).tick(T0)


def test_a_daily_cycle_warmest_in_the_afternoon() -> None:
    signals = DeviceSignals(1, anomaly_rate=0, dropout_rate=0)
    hourly = [
        sum(signals.temperature(T0 + h * 3600 + m) for m in range(0, 600, 60)) / 10
        for h in range(24)
    ]
    assert max(range(24), key=lambda h: hourly[h]) in (14, 15, 16)
    assert min(range(24), key=lambda h: hourly[h]) in (2, 3, 4)
    assert hourly[15] - hourly[3] > 5


def test_readings_and_their_kinds() -> None:
    signals = DeviceSignals(3, anomaly_rate=0, dropout_rate=0)
    counters, positions = [], []
    for i in range(120):
        readings = dict(signals.tick(T0 + i))
        assert set(readings) == {"temperature", "humidity", "counter", "position"}
        assert 5.0 <= readings["humidity"] <= 100.0
        counters.append(readings["counter"])
        positions.append(readings["position"])
    assert counters == sorted(counters) and counters[-1] > counters[0]
    assert len({(p["lat"], p["lon"]) for p in positions}) > 100  # it moves
    for p in positions:  # within a few km of Munich
        assert math.hypot(p["lat"] - 48.137, (p["lon"] - 11.575) * 0.67) < 0.05


def test_a_route_loops() -> None:
    import random

    route = Route.around(random.Random(5), 48.0, 11.0)
    loop = sum(route._legs()) / route.speed
    assert route.at(0) == route.at(loop)
    assert route.at(loop / 2) != route.at(0)


def test_spikes_and_silences_happen_at_their_rates() -> None:
    calm = DeviceSignals(9, anomaly_rate=0, dropout_rate=0)
    spiky = DeviceSignals(9, anomaly_rate=1.0, dropout_rate=0)
    assert dict(spiky.tick(T0))["temperature"] - dict(calm.tick(T0))["temperature"] > 7
    quiet = DeviceSignals(9, anomaly_rate=0, dropout_rate=1.0)
    assert quiet.tick(T0) == [] and quiet.tick(T0 + 10) == []  # silent for 20 to 90 s
    assert quiet.silent_until >= T0 + 20
