"""Built-in streaming detectors: pure steps over a JSON state, one reading at a time.

Each kind turns (state, ts, value) into (score or None while warming up, new state). The score is
in units of the series' own spread, so one threshold (default 4) fits any sensor:

- `ewma`: exponentially weighted mean and variance (`alpha`); score |x - mean| / std. The update
  uses the value clipped to mean +- `clip` std, so a spike does not drag the baseline.
- `mad`: a robust line (Theil-Sen: median slope, median intercept) through the last `window`
  readings and the median absolute deviation of their residuals; score |x - line| /
  (1.4826 MAD): robust to the outliers it is looking for and to the slope of a season.
- `seasonal`: additive Holt-Winters: a level, one seasonal offset per phase bin of `period`
  seconds (`bins` bins, by event time) and an EWMA of squared residuals; score |residual| / std.
  It warms up for two periods.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from typing import Any

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
    score = None
    if len(values) >= params["warmup"]:
        # a robust line through the window (Theil-Sen), so a slope (a season, a trend) is not
        # mistaken for spread: median of pairwise slopes, median intercept, MAD of residuals
        n = len(values)
        slope = statistics.median(
            (values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n)
        )
        intercept = statistics.median(v - slope * i for i, v in enumerate(values))
        residuals = [v - intercept - slope * i for i, v in enumerate(values)]
        centre = statistics.median(residuals)
        mad = statistics.median(abs(r - centre) for r in residuals)
        scale = max(1.4826 * mad, _EPS * max(1.0, abs(intercept)))
        score = abs(x - intercept - slope * n - centre) / scale
    values.append(x)
    return score, {"values": values[-int(params["window"]) :]}


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
