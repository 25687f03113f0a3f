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
    if scenario.startswith("ingest"):  # every accepted reading is stored, and counted back
        e2e = result["e2e"]
        assert e2e["complete"] and e2e["lost"] == 0 and e2e["stored"] == e2e["published"] > 0
    assert f"{scenario} / sprint" in (out / "summary.md").read_text()
    for name in ("throughput", "latency", "distribution"):
        assert (out / f"{name}.png").stat().st_size > 1000


@pytest.mark.parametrize(("scenario", "qos"), [("mqtt-qos0", 0), ("mqtt-qos1", 1)])
def test_mqtt_scenario_with_its_baseline(platform: RunningEmulator, tmp_path, scenario, qos):
    """Devices publish through the emulator's Mosquitto (the broker found in its endpoints.json),
    the bridge carries the readings to the bus, and they are counted back through the query API;
    the same load against a plain Mosquitto is the baseline."""
    out = tmp_path / scenario
    args = ["run", "--target", platform.base_url, "--data-dir", str(platform.data_dir),
            "--scenario", scenario, "--profile", "sprint", "--duration", "2", "--vus", "2",
            "--password", platform.admin_password, "--option", "devices=2", "--baseline",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["config"]["mqtt"] == platform.endpoints["mqtt"]
    assert result["requests"] > 0 and result["goodput"] == 1.0, result["errors_by_kind"]
    assert set(result["outcomes"]) == {"puback" if qos else "sent"}
    e2e = result["e2e"]
    assert e2e["published"] == result["requests"] and e2e["stored"] > 0
    if qos:  # acknowledged means the bridge has it on the bus: every reading becomes queryable
        assert e2e["stored"] == e2e["published"] and e2e["lost"] == 0 and e2e["complete"]
    base = result["baseline"]
    assert base["name"].startswith("plain Mosquitto") and base["requests"] > 0
    assert base["e2e"]["received"] > 0 and base["ratios"]["e2e_per_second"] > 0
    summary = (out / "summary.md").read_text()
    assert "End to end:" in summary and "Baseline end to end:" in summary
