"""BENCHMARKS.md sections from synthetic results, and `python -m bench suite` end to end against a
local echo server (sign-in answers 200 there), then `report` picking the newest suite."""

import json
import os
import shlex

import pytest

from bench.benchmarks import render
from bench.cli import main
from bench.commands.suite import PLAN, plan_seconds
from bench.load import LoadResult
from bench.metrics import Recorder
from bench.report import build, ratios


def _result(scenario, profile="linear", ok="200", readings=1, e2e=None, baseline=True,
            options=None):  # fmt: skip
    recorder = Recorder()
    for i in range(50):
        recorder.record(ok, 0.002 * (1 + i % 5), i / 25)
    load = LoadResult(recorder, 1_790_000_000.0, 2.0, False, [4, 8], {},
                      {"readings": readings}, e2e)  # fmt: skip
    config = {"profile": profile, "options": options or {}}
    result = build(load, scenario=scenario, config=config, command=f"run {scenario}")
    result["cost"] = {"per_1000_requests": 0.002, "euro_cent_per_1000_requests": 0.184,
                      "per_million_readings": 2.0 if readings else None, "cpu_measured": True,
                      "prices_checked": "2026-11-22"}  # fmt: skip
    if baseline:
        base = dict(result, throughput_rps=result["throughput_rps"] * 2)
        if e2e:
            base["e2e"] = dict(e2e, what="received", received=e2e["published"],
                               per_second=e2e["per_second"] * 2, lost=0)  # fmt: skip
        result["baseline"] = {"name": "plain Mosquitto + paho subscriber" if e2e else "echo",
                              "throughput_rps": base["throughput_rps"],
                              "latency_ms": base["latency_ms"], "e2e": base.get("e2e"),
                              "ratios": ratios(result, base)}  # fmt: skip
    return result


E2E = {"what": "stored", "attempted": 50, "published": 50, "stored": 48, "lost": 2,
       "seconds": 2.5, "per_second": 19.2, "waited_s": 15.0, "complete": False}  # fmt: skip


def test_every_section_with_ours_next_to_the_study():
    results = [
        _result("ingest-batch", readings=1000, options={"batch": 1000}, baseline=False),
        _result("ingest-batch", readings=100, options={"batch": 100}),
        _result("mqtt-qos1", ok="puback", e2e=E2E),
        _result("query-range", readings=0),
        _result("sensor-create", "sprint", ok="201", readings=0, baseline=False),
        _result("signin", readings=0, baseline=False),
    ]
    cold = [{"function": "ingest", "kind": "http", "request": "POST /ingest", "total_s": 0.7,
             "import_s": 0.2, "first_request_s": 0.3, "status": 401, "max_rss_mib": 64.2,
             "error": None}]  # fmt: skip
    suite = {"command": "python -m bench suite --scale 0.05", "finished_at": "2026-11-23",
             "failures": {"query-agg": "exit status 1"}}  # fmt: skip
    text = render(results, cold, suite)
    for heading in ("## Ingest: HTTP and MQTT", "### End to end", "## Query", "## API scenarios",
                    "## Next to the TUM study", "## Cost projection",
                    "## Cold start and memory per function", "## How to reproduce"):  # fmt: skip
        assert heading in text
    assert "python -m bench suite --scale 0.05" in text and "query-agg: exit status 1" in text
    # 50 requests over 2 s, 100 readings each
    assert "| ingest-batch batch=100 | linear | 50 | 100.0% | 2,500.0 |" in text
    assert "| ingest-batch batch=1000 | linear | 50 | 100.0% | 25,000.0 |" in text
    assert text.index("batch=100 |") < text.index("batch=1000 |")  # by readings per request
    assert "| mqtt-qos1 | linear | 50 | 100.0% | 25.0 |" in text
    assert "| mqtt-qos1 | linear | 50 | 48 | 2 | 19.2 | 2.5 | 38.4 | 0 | 0.5 |" in text
    assert "| 0.5 | 1.0 |" in text  # throughput and p95 ratios to the baseline
    assert "351-519 ms" in text and "Cloud Run 69%, OpenWhisk 89%" in text
    assert "| GKE 11 ms, Cloud Run 31 ms, OpenWhisk 310 ms | not run |" in text  # sensor-get
    assert f"Stratus (ours: one machine, {os.cpu_count()} CPUs)" in text
    assert "| ingest | http | POST /ingest | 0.7 | 0.2 | 0.3 | HTTP 401 | 64.2 |" in text
    assert "| signin | linear | 0.2000 | 0.1840 | - | yes |" in text


def test_plan_covers_every_issue_scenario_and_its_length():
    names = [name for name, _, _, _ in PLAN]
    for name in ("signin", "device-list", "sensor-create", "sensor-get", "ingest-single",
                 "ingest-batch", "mqtt-qos0", "mqtt-qos1", "query-range", "query-agg"):  # fmt: skip
        assert name in names
    # linear at 0.05 = 90 s, sprint 15 s; baselines double their runs
    plan = [("a", "linear", True, ()), ("b", "sprint", False, ())]
    assert plan_seconds(plan, 0.05) == pytest.approx(195)
    # HTTP ingest with batches of 1, 10, 100 and 1000 readings
    batches = {o for name, _, _, options in PLAN if name == "ingest-batch" for o in options}
    assert batches == {"batch=10", "batch=100", "batch=1000"} and "ingest-single" in names


@pytest.mark.load
def test_suite_writes_benchmarks_and_report_finds_the_newest_suite(echo_server, tmp_path,
                                                                  monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "BENCHMARKS.md"
    args = ["suite", "--target", echo_server, "--only", "signin", "--scale", "0.001",
            "--vus", "2", "--no-coldstart", "--data-dir", str(tmp_path), "--password", "pw",
            "--output", str(output)]  # fmt: skip
    assert main(args) == 0
    suites = list((tmp_path / "bench" / "results").glob("suite-*"))
    assert len(suites) == 1
    recorded = json.loads((suites[0] / "suite.json").read_text())
    assert recorded["failures"] == {} and "'***'" in recorded["command"]
    text = output.read_text()
    assert "| signin | linear |" in text and "python -m bench suite --target" in text
    assert "pw" not in shlex.split(recorded["command"])
    again = tmp_path / "AGAIN.md"
    assert main(["report", "--output", str(again)]) == 0
    assert again.read_text() == text


def test_the_targets_table_reads_each_figure_from_its_run():
    single_e2e = dict(E2E, stored=50, lost=0, per_second=40.0, duplicated=0)
    results = [
        _result("ingest-single", e2e=single_e2e),
        _result("ingest-single", "rate", e2e=dict(single_e2e, duplicated=1), baseline=False),
        _result("ingest-batch", readings=100, options={"batch": 100}, e2e=dict(E2E, lost=3)),
        _result("query-range", readings=0),
    ]
    aggregate = {"points": 86_400, "stored": 86_400, "per_request": 3600, "intervals": 1440,
                 "repeat": 30, "server_ms": {"p50": 21.5, "p95": 30.1, "min": 19.0, "max": 40.0},
                 "client_ms": {"p50": 25.0, "p95": 35.0, "min": 22.0, "max": 50.0}}  # fmt: skip
    text = render(results, aggregate=aggregate)
    targets = text.split("## Targets of issue 16 (this run)")[1].split("\n## ")[0]
    base = results[0]["baseline"]["throughput_rps"]
    assert f"40.0 / {base:,.1f} = {40.0 / base:.3f}" in targets
    assert "| batches of 100: readings stored/s | 19.2 | >= 20,000 |" in targets
    assert "21.5 (30.1) ms" in targets
    assert f"{results[1]['latency_ms']['p99']:.1f} ms" in targets
    assert "| readings lost / stored twice, all runs | 3 / 1 | 0 / 0 |" in targets
    assert "## One day, per minute: aggregate server time" in text


def test_sections_other_commands_spliced_in_are_kept():
    from bench import coldstart_artefacts, detect
    from bench.benchmarks import keep_sections

    before = (
        f"# old\n\n## Query\n\nold rows\n\n{coldstart_artefacts.HEADING}\n\nzip sizes\n\n"
        f"## How to reproduce\n\nsteps\n\n{detect.HEADING}\n\nF1 table\n\n## After\n\nx\n"
    )
    kept = keep_sections(before, "# new\n\n## Query\n\nnew rows\n\n## How to reproduce\n\nnew\n")
    assert "new rows" in kept and "old rows" not in kept
    assert f"{detect.HEADING}\n\nF1 table\n" in kept and "## After" not in kept
    assert f"{coldstart_artefacts.HEADING}\n\nzip sizes\n\n## How to reproduce" in kept
    assert keep_sections("# nothing spliced\n", "# new\n") == "# new\n"
