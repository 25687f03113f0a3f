"""Built-in streaming detectors: pure steps over a JSON state, one reading at a time.

Each kind turns (state, ts, value) into (score or None while warming up, new state). The score is
in units of the series' own spread, so one threshold (default 4) fits any sensor:

- `ewma`: exponentially weighted mean and variance (`alpha`); score |x - mean| / std. The update
  uses the value clipped to mean +- `clip` std, so a spike does not drag the baseline.
- `mad`: a robust line (Theil-Sen: median slope, median intercept) through the last `window`
  readings and the median absolute deviation of their residuals; score |x - line| /
  (1.4826 MAD): robust to the outliers it is looking for and to the slope of a season. The
  pairwise slopes are kept sorted per process and slid by one reading (`_SlopeMemo`): O(n log
  n) a reading where recomputing them is O(n^2 log n).
- `seasonal`: additive Holt-Winters: a level, one seasonal offset per phase bin of `period`
  seconds (`bins` bins, by event time) and an EWMA of squared residuals; score |residual| / std.
  It warms up for two periods.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from sortedcontainers import SortedList

__all__ = ["BUILTIN_KINDS", "DEFAULT_THRESHOLDS", "PARAMETERS", "step", "validate_params"]

State = dict[str, Any]
Step = Callable[[State, Mapping[str, Any], int, float], tuple[float | None, State]]

_EPS = 1e-9
PARAMETERS: Mapping[str, Mapping[str, tuple[float, float, float]]] = {  # name: (default, lo, hi)
    "ewma": {"alpha": (0.1, 1e-4, 1.0), "warmup": (10, 1, 10_000), "clip": (4.0, 1.0, 100.0)},
    "mad": {"window": (40, 5, 200), "warmup": (20, 3, 200)},
    "seasonal": {
        "period": (86400, 1, 31 * 86400),
        "bins": (96, 2, 1440),
        "alpha": (0.05, 1e-4, 1.0),
        "gamma": (0.2, 1e-4, 1.0),
        "beta": (0.05, 1e-4, 1.0),
    },
}
BUILTIN_KINDS = tuple(PARAMETERS)
DEFAULT_THRESHOLDS = {"ewma": 4.0, "mad": 6.0, "seasonal": 4.0}  # tuned on `python -m bench detect`


def validate_params(kind: str, raw: Mapping[str, Any]) -> dict[str, float]:
    """The parameters of a built-in kind with defaults filled in; ValueError names a bad one."""
    spec = PARAMETERS[kind]
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for {kind} (known: {', '.join(spec)})")
    out: dict[str, float] = {}
    for name, (default, low, high) in spec.items():
        value = raw.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= high
        ):
            raise ValueError(f"{name} must be a number within {low:g}..{high:g}")
        out[name] = float(value)
    return out


def _ewma(state: State, params: Mapping[str, Any], ts: int, x: float) -> tuple[float | None, State]:
    n, alpha = int(state.get("n", 0)), float(params["alpha"])
    if n == 0:
        return None, {"n": 1, "mean": x, "var": 0.0}
    mean, var = float(state["mean"]), float(state["var"])
    std = math.sqrt(var)
    score = abs(x - mean) / max(std, _EPS * max(1.0, abs(mean))) if n >= params["warmup"] else None
    limit = float(params["clip"]) * std
    clipped = min(max(x, mean - limit), mean + limit) if n >= params["warmup"] and std > 0 else x
    diff = clipped - mean
    mean += alpha * diff
    var = (1 - alpha) * (var + alpha * diff * diff)
    return score, {"n": n + 1, "mean": mean, "var": var}


def _mad(state: State, params: Mapping[str, Any], ts: int, x: float) -> tuple[float | None, State]:
    values = [float(v) for v in state.get("values", [])]
    window = int(params["window"])
    score = None
    slopes = _SLOPES.take(values) if len(values) >= params["warmup"] else None
    if slopes is not None:
        # a robust line through the window (Theil-Sen), so a slope (a season, a trend) is not
        # mistaken for spread: median of pairwise slopes, median intercept, MAD of residuals
        n = len(values)
        middle = len(slopes) // 2
        slope = slopes[middle] if len(slopes) % 2 else (slopes[middle - 1] + slopes[middle]) / 2
        intercept = statistics.median(v - slope * i for i, v in enumerate(values))
        residuals = [v - intercept - slope * i for i, v in enumerate(values)]
        centre = statistics.median(residuals)
        mad = statistics.median(abs(r - centre) for r in residuals)
        scale = max(1.4826 * mad, _EPS * max(1.0, abs(intercept)))
        score = abs(x - intercept - slope * n - centre) / scale
    kept = [*values, x][-window:]
    if slopes is not None:
        _SLOPES.slide(slopes, values, kept)
    return score, {"values": kept}


class _SlopeMemo:
    """The sorted pairwise slopes of recent windows, by window: the next reading's window
    differs by one value in and at most one out, so its slopes are the last ones less the n - 1
    of the value leaving and plus the n - 1 of the value coming in (O(n log n) with a sorted
    list, where computing and sorting all n(n-1)/2 again is O(n^2 log n)). Each slope is
    computed exactly as from scratch, `(v[j] - v[i]) / (j - i)` (the index difference does
    not change as the window slides), so the median is the same float."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._memo: OrderedDict[tuple[float, ...], SortedList] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity  # slopes kept in all (about 40 MB), the oldest windows go
        self._size = 0

    def take(self, values: list[float]) -> SortedList:
        """The sorted slopes of `values` (the caller's to change and `slide`)."""
        with self._lock:
            found = self._memo.pop(tuple(values), None)
            self._size -= len(found) if found is not None else 0
        if found is not None:
            return found
        n = len(values)
        return SortedList(
            (values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n)
        )

    def slide(self, slopes: SortedList, old: list[float], new: list[float]) -> None:
        """Turn `slopes` of window `old` into those of `new` (`old` plus one value, less its
        first when full) and keep them for the next reading."""
        x, n = new[-1], len(old)
        try:
            if len(new) == n:  # the window was full: its first value leaves
                first = old[0]
                for j in range(1, n):
                    slopes.remove((old[j] - first) / j)
                old = old[1:]
        except ValueError:  # not the slopes of `old` (a value that is not a finite number)
            return
        m = len(old)
        slopes.update((x - old[i]) / (m - i) for i in range(m))
        with self._lock:
            self._size -= len(self._memo.pop(tuple(new), ()))
            self._memo[tuple(new)] = slopes
            self._size += len(slopes)
            while self._size > self._capacity and self._memo:
                self._size -= len(self._memo.popitem(last=False)[1])


_SLOPES = _SlopeMemo()


def _seasonal(
    state: State, params: Mapping[str, Any], ts: int, x: float
) -> tuple[float | None, State]:
    period_ns = int(params["period"] * 1e9)
    bins = int(params["bins"])
    phase = int((ts % period_ns) * bins // period_ns)
    if not state:
        state = {"level": x, "season": [0.0] * bins, "var": 0.0, "start": ts, "n": 0}
    level, season = float(state["level"]), [float(s) for s in state["season"]]
    var, start, n = float(state["var"]), int(state["start"]), int(state["n"])
    residual = x - level - season[phase]
    warm = ts - start >= 2 * period_ns and n > 2 * bins
    score = abs(residual) / max(math.sqrt(var), _EPS * max(1.0, abs(level))) if warm else None
    std = math.sqrt(var)
    if warm and std > 0:  # a spike must not reshape the baseline
        residual = min(max(residual, -4 * std), 4 * std)
    level += float(params["alpha"]) * residual
    season[phase] += float(params["gamma"]) * residual
    beta = float(params["beta"]) if n > bins else 0.5
    var = (1 - beta) * var + beta * residual * residual
    return score, {"level": level, "season": season, "var": var, "start": start, "n": n + 1}


_STEPS: Mapping[str, Step] = {"ewma": _ewma, "mad": _mad, "seasonal": _seasonal}


def step(
    kind: str, state: State, params: Mapping[str, Any], ts: int, value: float
) -> tuple[float | None, State]:
    """One reading through a built-in detector: (score, or None while warming up; new state)."""
    return _STEPS[kind](state, params, ts, value)
