"""Report completeness from a synthetic run: every field the issue asks for is in the JSON."""

import json

from bench import profiles
from bench.benchmarks import render
from bench.load import LoadResult
from bench.metrics import Recorder
from bench.report import build, latest, markdown, ratios, write

FIELDS = {
    "config", "machine", "series", "latency_ms", "errors_by_kind", "goodput", "throughput_rps",
    "goodput_rps", "outcomes", "histogram", "distribution_us", "command", "started_at",
    "elapsed_s", "cost", "baseline", "dropped", "late",
}  # fmt: skip


def _load():
    recorder = Recorder()
    for i in range(100):
        recorder.record(200 if i % 10 else 503, 0.001 * (1 + i % 7), i / 50)
    return LoadResult(recorder, 1_790_000_000.0, 2.0, False, [3, 4], {}, {"readings": 1})


def test_result_is_complete_and_json_safe(tmp_path):
    result = build(_load(), scenario="trivial", config={"profile": "sprint"}, command="x")
    assert FIELDS <= set(result)
    assert result["requests"] == 100 and result["errors"] == 10 and result["goodput"] == 0.9
    assert result["errors_by_kind"] == {"503": 10}
    lat = result["latency_ms"]
    assert lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert [row["vus"] for row in result["series"]] == [3, 4]
    assert {"cpus", "python", "platform", "cpu_model", "memory_gib"} <= set(result["machine"])
    folder = write(result, tmp_path / "r")
    assert json.loads((folder / "result.json").read_text())["requests"] == 100
    assert "503: 10" in markdown(result)


def test_ratios_and_benchmarks_table():
    ours = build(_load(), scenario="ingest-single", config={"profile": "linear"}, command="c")
    base = dict(ours, throughput_rps=ours["throughput_rps"] * 2)
    r = ratios(ours, base)
    assert r["throughput"] == 0.5 and r["p95"] == 1.0
    ours["baseline"] = {"ratios": r}
    cold = [{"function": "status", "total_s": 0.5, "import_s": 0.3, "first_request_s": 0.01,
             "max_rss_mib": 40.0}]  # fmt: skip
    text = render([ours], cold)
    assert "| ingest-single | linear |" in text and "| 0.5 | 1.0 |" in text and "| status |" in text


def test_profiles_module_is_pure():
    assert profiles.make("linear", scale=0.5).vus_at(450) == 50


def test_latest_keeps_the_newest_run_per_scenario_profile_and_options(tmp_path):
    """Batch sizes of one scenario are different runs; a rerun replaces only its own."""

    def save(folder, batch, started_at):
        result = {"scenario": "ingest-batch", "profile": "linear", "started_at": started_at,
                  "config": {"options": {"batch": batch}}}  # fmt: skip
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "result.json").write_text(json.dumps(result))

    save("a", 10, "2026-11-23T10:00:00")
    save("b", 100, "2026-11-23T10:01:00")
    save("c", 10, "2026-11-23T10:02:00")
    found = latest(tmp_path)
    assert sorted((r["config"]["options"]["batch"], r["_folder"][-1]) for r in found) == [
        (10, "c"),
        (100, "b"),
    ]
