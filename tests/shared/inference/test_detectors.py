"""Built-in detectors on the labelled data set (no platform: the same steps the scorer runs), their
parameters, and the ONNX runner on a model built with the onnx helper API."""

from __future__ import annotations

import pytest

from bench.detect_data import KINDS, generate, score
from shared.inference.detectors import DEFAULT_THRESHOLDS, step, validate_params


def flags(detector: str, kind: str) -> list[bool]:
    series = generate(kind)
    params, state, out = validate_params(detector, {}), {}, []
    for ts, value in zip(series.timestamps, series.values, strict=True):
        result, state = step(detector, state, params, ts * 10**9, value)
        out.append(result is not None and result > DEFAULT_THRESHOLDS[detector])
    return out


@pytest.mark.parametrize("detector", ["ewma", "mad", "seasonal"])
@pytest.mark.parametrize("kind", ["spike", "level_shift"])
def test_builtin_detectors_meet_the_goal_on_spikes_and_level_shifts(
    detector: str, kind: str
) -> None:
    metrics = score(flags(detector, kind), generate(kind).events)
    assert metrics.f1 >= 0.8, (metrics.precision, metrics.recall)
    if kind == "spike":
        assert metrics.mean_delay is not None and metrics.mean_delay <= 1


def test_the_data_set_is_deterministic_and_labelled() -> None:
    for kind in KINDS:
        first, again = generate(kind), generate(kind)
        assert first.values == again.values and first.events == again.events
        assert len(first.values) == 7 * 288 and first.events


def test_scoring_by_events() -> None:
    events = [(10, 12), (50, 60)]
    flagged = [False] * 100
    for i in (11, 12, 13, 30, 55):
        flagged[i] = True
    metrics = score(flagged, events)
    assert (metrics.alarms, metrics.true_alarms, metrics.detected) == (3, 2, 2)
    assert metrics.delays == [1, 5] and metrics.precision == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("ewma", {"alpha": 0}, "alpha must be"),
        ("ewma", {"speed": 1}, "unknown parameter 'speed'"),
        ("mad", {"window": True}, "window must be"),
        ("seasonal", {"bins": 1}, "bins must be"),
    ],
)
def test_bad_parameters_are_named(kind: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_params(kind, params)


def test_a_spike_does_not_drag_the_ewma_baseline() -> None:
    params, state = validate_params("ewma", {"warmup": 5}), {}
    for i in range(50):
        _, state = step("ewma", state, params, i, 20.0 + (i % 2) * 0.5)
    spike, after = step("ewma", state, params, 50, 80.0)
    assert spike is not None and spike > 50
    again, _ = step("ewma", after, params, 51, 20.5)
    assert again is not None and again < 4
