"""End-to-end smoke: `python -m bench run` with every profile against a local echo server, then
`report`; the result files must be complete and sane. No wall-clock assertions."""

import json
import struct

import pytest

from bench.cli import main
from bench.report import latest

pytestmark = pytest.mark.load

_PNG = b"\x89PNG\r\n\x1a\n"


def _png_size(path):
    data = path.read_bytes()
    assert data.startswith(_PNG)
    return struct.unpack(">II", data[16:24])


def _check(folder, profile):
    result = json.loads((folder / "result.json").read_text())
    assert result["profile"] == profile and result["scenario"] == "trivial"
    assert result["requests"] > 0
    assert result["goodput"] == 1.0 and result["errors"] == 0
    lat = result["latency_ms"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert sum(row["requests"] for row in result["series"]) == result["requests"]
    assert result["machine"]["cpus"] and result["config"]["target"].startswith("http://127.0.0.1")
    assert result["cost"]["per_1000_requests"] > 0
    assert "--password" not in result["command"] or "***" in result["command"]
    summary = (folder / "summary.md").read_text()
    assert f"trivial / {profile}" in summary and "100.0%" in summary
    for name in ("throughput", "latency", "distribution"):
        width, height = _png_size(folder / f"{name}.png")
        assert width > 100 and height > 100
    return result


@pytest.mark.parametrize("profile", ["linear", "random", "spike", "sprint"])
def test_closed_loop_profiles(echo_server, tmp_path, profile):
    out = tmp_path / profile
    args = ["run", "--target", echo_server, "--scenario", "trivial", "--profile", profile,
            "--scale", "0.005", "--vus", "4", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    result = _check(out, profile)
    assert max(row["vus"] or 0 for row in result["series"]) <= 4


def test_open_loop_rate(echo_server, tmp_path):
    out = tmp_path / "rate"
    args = ["run", "--target", echo_server, "--rate", "40", "--duration", "2",
            "--out", str(out), "--quiet", "--password", "not-kept"]  # fmt: skip
    assert main(args) == 0
    result = _check(out, "rate")
    assert result["config"]["open_loop"] and result["requests"] <= 81
    assert "not-kept" not in (out / "result.json").read_text()


def test_report_writes_benchmarks_from_the_latest_results(echo_server, tmp_path):
    results = tmp_path / "results"
    for n in range(2):
        args = ["run", "--target", echo_server, "--profile", "sprint", "--duration", "1",
                "--vus", "2", "--out", str(results / f"run{n}"), "--quiet"]  # fmt: skip
        assert main(args) == 0
    assert len(latest(results)) == 1
    output = tmp_path / "BENCHMARKS.md"
    assert main(["report", "--results", str(results), "--output", str(output)]) == 0
    text = output.read_text()
    assert "| trivial | sprint |" in text and "python -m bench run" in text


def test_scenarios_lists_every_scenario(capsys):
    assert main(["scenarios"]) == 0
    listed = capsys.readouterr().out
    for name in ("trivial", "signin", "ingest-batch", "query-agg", "sensor-create"):
        assert name in listed


@pytest.mark.process  # the generator processes
def test_two_generator_processes_merge_their_histograms(echo_server, tmp_path):
    out = tmp_path / "two"
    args = ["run", "--target", echo_server, "--profile", "sprint", "--duration", "1",
            "--vus", "4", "--processes", "2", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    result = _check(out, "sprint")
    assert max(row["vus"] or 0 for row in result["series"]) == 4  # 2 per process
