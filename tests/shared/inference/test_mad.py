"""The `mad` detector's sliding sorted slopes give exactly what the straightforward Theil-Sen
computation gives (every pairwise slope recomputed and sorted for each reading), whatever the
values, window, warm-up, interleaving of series and readings whose new state is discarded."""

from __future__ import annotations

import statistics
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.inference.detectors import step, validate_params

_EPS = 1e-9


def reference(state: dict[str, Any], params: dict[str, float], x: float) -> tuple[Any, Any]:
    """The O(n^2 log n) implementation the detector had (the definition)."""
    values = [float(v) for v in state.get("values", [])]
    score = None
    if len(values) >= params["warmup"]:
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


values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(-5, 5).map(float),  # repeated values: equal slopes, even counts
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), values, st.booleans()), min_size=1, max_size=120),
    st.integers(5, 40),
    st.data(),
)
def test_sliding_slopes_match_the_definition(
    feed: list[tuple[int, float, bool]], window: int, data: st.DataObject
) -> None:
    warmup = data.draw(st.integers(3, window))
    params = validate_params("mad", {"window": window, "warmup": warmup})
    ours: dict[int, dict[str, Any]] = {}
    theirs: dict[int, dict[str, Any]] = {}
    for series, x, late in feed:  # three series interleaved; a late reading keeps its state
        state = orjson.loads(orjson.dumps(ours.get(series, {})))  # as stored
        score, new = step("mad", state, params, 0, x)
        expected, expected_new = reference(theirs.get(series, {}), params, x)
        assert score == expected
        assert new == expected_new
        if not late:
            ours[series], theirs[series] = new, expected_new
