"""Every API scenario for a few seconds against the running emulator (the session `platform`):
setup through the API, load, teardown, and complete, sane result files. No wall-clock assertions."""

import json

import pytest

from bench.cli import main
from tests.support.emulator import RunningEmulator

pytestmark = [pytest.mark.load, pytest.mark.e2e]

SCENARIOS = [
    "signin",
    "device-list",
    "sensor-create",
    "sensor-get",
    "ingest-single",
    "ingest-batch",
    "query-range",
    "query-agg",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_against_the_emulator(platform: RunningEmulator, tmp_path, scenario):
    out = tmp_path / scenario
    args = ["run", "--target", platform.base_url, "--scenario", scenario, "--profile", "sprint",
            "--duration", "2", "--vus", "2", "--password", platform.admin_password,
            "--option", "devices=2", "--option", "seed=200",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["scenario"] == scenario and result["requests"] > 0
    assert result["errors"] == 0 and result["goodput"] == 1.0, result.get("error_breakdown")
    lat = result["latency_ms"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert platform.admin_password not in (out / "result.json").read_text()
    assert f"{scenario} / sprint" in (out / "summary.md").read_text()
    for name in ("throughput", "latency", "distribution"):
        assert (out / f"{name}.png").stat().st_size > 1000
