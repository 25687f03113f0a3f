"""The study's VU profiles: values at given times, scaling in time and VUs."""

import pytest

from bench import profiles


@pytest.mark.parametrize(
    ("name", "t", "vus"),
    [
        ("linear", 0, 0),
        ("linear", 900, 50),
        ("linear", 1800, 100),
        ("linear", 1801, 0),
        ("random", 0, 0),
        ("random", 210, 30),
        ("random", 420, 60),
        ("random", 630, 45),
        ("random", 840, 30),
        ("random", 1260, 100),
        ("random", 1680, 40),
        ("random", 1740, 20),
        ("random", 1800, 0),
        ("spike", 0, 10),
        ("spike", 839.9, 10),
        ("spike", 840, 100),
        ("spike", 900, 100),
        ("spike", 959.9, 100),
        ("spike", 960, 10),
        ("spike", 1800, 10),
        ("sprint", 0, 100),
        ("sprint", 299, 100),
        ("rate", 10, 100),
    ],
)
def test_values_at_given_times(name, t, vus):
    assert profiles.PROFILES[name]().vus_at(t) == vus


def test_before_start_is_zero():
    assert profiles.linear().vus_at(-1) == 0


def test_time_scale_turns_30_minutes_into_90_seconds():
    profile = profiles.make("random", scale=0.05)
    assert profile.duration == pytest.approx(90)
    assert profile.vus_at(21) == 60  # 7 min * 0.05
    assert profile.vus_at(63) == 100  # 21 min * 0.05


def test_vus_sets_the_peak_and_vu_scale_scales():
    assert profiles.make("linear", vus=10).vus_at(1800) == 10
    assert profiles.make("spike", vus=20).vus_at(0) == 2
    assert profiles.make("spike", vu_scale=0.5).vus_at(900) == 50


def test_duration_overrides_scale():
    profile = profiles.make("spike", scale=0.05, duration=60)
    assert profile.duration == pytest.approx(60)
    assert profile.vus_at(28) == 100  # minute 14 of 30 -> 28 s of 60


def test_rate_profile_is_open_loop_and_keeps_its_rate():
    profile = profiles.make("rate", rate_per_second=250, duration=5)
    assert profile.open_loop
    assert profile.value_at(2.5) == 250
    assert profile.duration == 5


def test_unknown_profile_and_bad_scale_are_refused():
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.make("ramp")
    with pytest.raises(ValueError):
        profiles.linear().scaled(0)
