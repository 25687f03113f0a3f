"""Virtual-user profiles of the TUM study as pure functions of time, scalable in time and VUs.

A profile is a list of (seconds, VUs) points joined by straight lines; two points at the same
time make a step. `--scale 0.05` turns the study's 30 minutes into 90 s.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

__all__ = ["PROFILES", "Profile", "linear", "make", "random", "rate", "spike", "sprint"]

_MINUTE = 60.0


@dataclass(frozen=True)
class Profile:
    """A VU curve: `points` are (seconds, VUs), sorted by time; `open_loop` means arrival rate."""

    name: str
    points: tuple[tuple[float, float], ...]
    open_loop: bool = False

    @property
    def duration(self) -> float:
        return self.points[-1][0]

    @property
    def peak(self) -> float:
        return max(vus for _, vus in self.points)

    def vus_at(self, t: float) -> int:
        """Whole VUs at `t` seconds from the start (0 before the start and after the end)."""
        return round(self.value_at(t))

    def value_at(self, t: float) -> float:
        """The interpolated curve at `t`; at a step the later value wins."""
        times = [p[0] for p in self.points]
        if t < times[0] or t > times[-1]:
            return 0.0
        index = bisect.bisect_right(times, t)
        if index >= len(times):
            return self.points[-1][1]
        (t0, v0), (t1, v1) = self.points[index - 1], self.points[index]
        if t1 == t0:
            return v1
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)

    def scaled(self, time_scale: float = 1.0, vu_scale: float = 1.0) -> Profile:
        """The same shape with times multiplied by `time_scale` and VUs by `vu_scale`."""
        if time_scale <= 0 or vu_scale < 0:
            raise ValueError("time scale must be > 0 and VU scale >= 0")
        points = tuple((t * time_scale, v * vu_scale) for t, v in self.points)
        return Profile(self.name, points, self.open_loop)


def linear(peak: float = 100, minutes: float = 30) -> Profile:
    """0 -> `peak` VUs, linearly, over `minutes` (the study: 100 VUs over 30 min)."""
    return Profile("linear", ((0.0, 0.0), (minutes * _MINUTE, float(peak))))


def random() -> Profile:
    """The study's piecewise profile: 60 VUs at 7 min, 30 at 14, 100 at 21, 40 at 28, 0 at 30."""
    marks = ((0, 0), (7, 60), (14, 30), (21, 100), (28, 40), (30, 0))
    return Profile("random", tuple((m * _MINUTE, float(v)) for m, v in marks))


def spike(base: float = 10, peak: float = 100, minutes: float = 30) -> Profile:
    """A `base` plateau with `peak` VUs between minute 14 and 16 (steps, no ramp)."""
    a, b, end = 14 * _MINUTE, 16 * _MINUTE, minutes * _MINUTE
    points = ((0.0, base), (a, base), (a, peak), (b, peak), (b, base), (end, base))
    return Profile("spike", tuple((t, float(v)) for t, v in points))


def sprint(vus: float = 100, seconds: float = 300) -> Profile:
    """`vus` VUs, as fast as they go, for `seconds`."""
    return Profile("sprint", ((0.0, float(vus)), (seconds, float(vus))))


def rate(per_second: float = 100, seconds: float = 300) -> Profile:
    """Open loop: a constant arrival rate (requests per second) for `seconds`."""
    return Profile("rate", ((0.0, float(per_second)), (seconds, float(per_second))), True)


PROFILES = {"linear": linear, "random": random, "spike": spike, "sprint": sprint, "rate": rate}


def make(
    name: str,
    *,
    scale: float = 1.0,
    vus: float | None = None,
    vu_scale: float = 1.0,
    duration: float | None = None,
    rate_per_second: float | None = None,
) -> Profile:
    """The named profile scaled for a run.

    `duration` (seconds) overrides `scale`; `vus` sets the peak (overrides `vu_scale`);
    `rate_per_second` sets the arrival rate of the `rate` profile.
    """
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    base = rate(rate_per_second or 100) if name == "rate" else PROFILES[name]()
    time_scale = duration / base.duration if duration else scale
    if name == "rate":
        return base.scaled(time_scale)
    if vus is not None:
        vu_scale = vus / base.peak
    return base.scaled(time_scale, vu_scale)
