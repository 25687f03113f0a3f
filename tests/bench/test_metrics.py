"""The HdrHistogram wrapper and the run recorder: percentiles, series, errors, goodput, merging."""

import pytest

from bench.metrics import HIGHEST_US, Histogram, Recorder, is_success


def test_histogram_percentiles_within_three_digits():
    h = Histogram()
    for us in range(1, 10_001):
        h.record(us)
    s = h.summary()
    assert s["count"] == 10_000
    assert s["p50"] == pytest.approx(5_000, rel=1e-3)
    assert s["p95"] == pytest.approx(9_500, rel=1e-3)
    assert s["p99"] == pytest.approx(9_900, rel=1e-3)
    assert s["max"] == pytest.approx(10_000, rel=1e-3)
    assert s["min"] == 1
    assert s["p50"] <= s["p90"] <= s["p95"] <= s["p99"] <= s["p999"] <= s["max"]


def test_histogram_clamps_out_of_range_values():
    h = Histogram()
    h.record(0.2)
    h.record(HIGHEST_US * 10)
    assert h.summary()["min"] == 1
    assert h.summary()["max"] == pytest.approx(HIGHEST_US, rel=1e-3)


def test_histogram_encode_decode_and_add():
    a, b = Histogram(), Histogram()
    a.record(100, 3)
    b.record(1_000, 1)
    merged = Histogram.decode(a.encode())
    merged.add_encoded(b.encode())
    assert merged.count == 4
    assert merged.summary()["max"] == pytest.approx(1_000, rel=1e-3)
    assert merged.distribution() == [(100, 3), (1_000, 1)]


def test_empty_histogram_summary_is_zeros():
    assert Histogram().summary()["p99"] == 0


def test_success_is_2xx_and_3xx():
    assert is_success(200) and is_success(304)
    assert not is_success(404) and not is_success("ConnectError")


def test_recorder_series_errors_and_goodput():
    r = Recorder()
    r.record(200, 0.001, 0.1)
    r.record(201, 0.003, 0.5)
    r.record(503, 0.010, 2.2)
    r.record("ReadTimeout", 5.0, 2.9)
    series = r.series()
    assert [row["t"] for row in series] == [0, 1, 2]
    assert series[0]["requests"] == 2 and series[0]["errors"] == 0
    assert series[1]["requests"] == 0 and series[1]["p95_ms"] is None
    assert series[2]["errors"] == 2
    assert series[0]["p50_ms"] == pytest.approx(1.0, rel=1e-2)
    assert r.goodput == 0.5
    assert r.errors_by_kind() == {"503": 1, "ReadTimeout": 1}
    summary = r.summary()
    assert summary["requests"] == 4 and summary["errors"] == 2
    assert summary["latency_us"]["max"] == pytest.approx(5_000_000, rel=1e-3)


def test_last_second_for_progress():
    r = Recorder()
    r.record(200, 0.002, 0.3)
    assert r.last_second(0.9) is None
    assert r.last_second(1.1)["requests"] == 1


def test_merge_two_recorders_like_two_processes():
    a, b = Recorder(), Recorder()
    a.record(200, 0.001, 0.5)
    b.record(200, 0.004, 0.7)
    b.record(500, 0.002, 1.5)
    b.dropped = 3
    a.merge(b.to_state())
    assert a.requests == 3 and a.errors == 1 and a.dropped == 3
    series = a.series()
    assert series[0]["requests"] == 2
    assert series[0]["p95_ms"] == pytest.approx(4.0, rel=1e-2)
    assert a.latency.count == 3
