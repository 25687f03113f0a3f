"""Results of a run: complete JSON, a Markdown summary and PNG plots; the latest result of every
scenario for BENCHMARKS.md (`bench.benchmarks`)."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["build", "latest", "machine", "machine_line", "markdown", "plots", "write"]

_MS = 1000.0


def machine() -> dict[str, Any]:
    """Where the run happened (from platform, os and /proc; no extra packages)."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count(),
        "cpu_model": None,
        "memory_gib": None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    with_load = Path("/proc/loadavg")
    if with_load.exists():
        info["loadavg"] = with_load.read_text().split()[:3]
    return info


def build(load: Any, *, scenario: str, config: dict[str, Any], command: str) -> dict[str, Any]:
    """The complete result of one `bench.load.run` (a LoadResult) as JSON-safe data."""
    recorder = load.recorder
    summary = recorder.summary()
    elapsed = load.elapsed or 1e-9
    latency = summary["latency_us"]
    series = recorder.series()
    for row in series:
        row["vus"] = load.vus[row["t"]] if row["t"] < len(load.vus) else None
    ok = summary["requests"] - summary["errors"]
    return {
        "format": 1,
        "scenario": scenario,
        "profile": config.get("profile"),
        "command": command,
        "config": config,
        "machine": machine(),
        "started_at": datetime.fromtimestamp(load.started_at, UTC).isoformat(),
        "elapsed_s": round(load.elapsed, 3),
        "interrupted": load.interrupted,
        "requests": summary["requests"],
        "errors": summary["errors"],
        "goodput": summary["goodput"],
        "throughput_rps": round(summary["requests"] / elapsed, 2),
        "goodput_rps": round(ok / elapsed, 2),
        "dropped": summary["dropped"],
        "late": summary["late"],
        "outcomes": summary["outcomes"],
        "errors_by_kind": summary["errors_by_kind"],
        "latency_ms": {k: v / _MS for k, v in latency.items() if k != "count"},
        "histogram": recorder.latency.encode(),
        "distribution_us": recorder.latency.distribution(),
        "series": series,
        "costs_per_request": load.costs,
        "e2e": load.e2e,
        "cost": None,
        "baseline": None,
    }


def ratios(ours: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    """Ours / baseline for throughput and latency percentiles (None where the base is zero)."""

    def div(a: float, b: float) -> float | None:
        return round(a / b, 3) if b else None

    out = {"throughput": div(ours["throughput_rps"], base["throughput_rps"])}
    for key in ("p50", "p95", "p99", "max"):
        out[key] = div(ours["latency_ms"][key], base["latency_ms"][key])
    if ours.get("e2e") and base.get("e2e"):
        out["e2e_per_second"] = div(ours["e2e"]["per_second"], base["e2e"]["per_second"])
    return out


def write(result: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    """result.json, summary.md and the PNG plots in `out` (created)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    plots(result, folder)
    (folder / "summary.md").write_text(markdown(result))
    return folder


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def markdown(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    lines = [
        f"# {result['scenario']} / {result['profile']}",
        "",
        f"`{result['command']}`",
        "",
        f"Started {result['started_at']}, {result['elapsed_s']} s"
        + (" (stopped early)" if result["interrupted"] else "")
        + f"; machine: {machine_line(result['machine'])}.",
        "",
        "| requests | errors | goodput | req/s | good req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {result['requests']} | {result['errors']} | {100 * result['goodput']:.1f}% "
        f"| {result['throughput_rps']:.1f} | {result['goodput_rps']:.1f} | {_ms(lat['p50'])} "
        f"| {_ms(lat['p95'])} | {_ms(lat['p99'])} | {_ms(lat['max'])} |",
    ]
    if result["dropped"] or result["late"]:
        lines += ["", f"Open loop: {result['dropped']} dropped, {result['late']} late arrivals."]
    if result["errors_by_kind"]:
        kinds = ", ".join(f"{k}: {n}" for k, n in result["errors_by_kind"].items())
        lines += ["", f"Errors by kind: {kinds}."]
    e2e = result.get("e2e")
    if e2e:
        lines += ["", _e2e_line("End to end", e2e)]
    base = result.get("baseline")
    if base:
        r = base["ratios"]
        lines += [
            "",
            f"Baseline ({base['name']}): {base['throughput_rps']:.1f} req/s, "
            f"p95 {_ms(base['latency_ms']['p95'])} ms. Stratus / baseline: throughput "
            f"{r['throughput']}, p50 {r['p50']}, p95 {r['p95']}, p99 {r['p99']}.",
        ]
        if base.get("e2e"):
            lines += ["", _e2e_line("Baseline end to end", base["e2e"])
                      + f" Stratus / baseline: {r.get('e2e_per_second')}."]  # fmt: skip
    cost = result.get("cost")
    if cost and cost.get("per_1000_requests") is not None:
        study = ", ".join(f"{k} {v}" for k, v in cost["study_euro_cent_per_1000_requests"].items())
        lines += [
            "",
            f"Projected cost ({cost['currency']}, prices checked {cost['prices_checked']}): "
            f"{cost['per_1000_requests'] * 100:.4f} cent per 1,000 requests "
            f"({cost['euro_cent_per_1000_requests']:.4f} euro-cent; the TUM study's gateway: "
            f"{study} euro-cent, on a cloud)"
            + (
                f", {cost['per_million_readings']:.4f} per million readings"
                if cost.get("per_million_readings") is not None
                else ""
            )
            + "."
            + (
                ""
                if cost.get("cpu_measured")
                else " CPU not measured (--server-pid): requests, bus and store only."
            ),
        ]
    lines += ["", "![throughput](throughput.png) ![latency](latency.png)", ""]
    lines += ["![distribution](distribution.png)", ""]
    return "\n".join(lines)


def _e2e_line(title: str, e2e: dict[str, Any]) -> str:
    what = e2e["what"]
    return (
        f"{title}: {e2e[what]} of {e2e['published']} published readings {what}, "
        f"{e2e['lost']} lost, {e2e['per_second']} readings {what} per second over "
        f"{e2e['seconds']} s from the start of the load."
    )


def machine_line(info: dict[str, Any]) -> str:
    """The machine of `machine()` in one phrase: CPUs, model, memory, Python."""
    model = info.get("cpu_model") or "unknown CPU"
    memory = f", {info['memory_gib']} GiB" if info.get("memory_gib") else ""
    return f"{info.get('cpus')} CPUs ({model}){memory}, Python {info.get('python')}"


def plots(result: dict[str, Any], folder: Path) -> list[Path]:
    """throughput.png, latency.png (per second) and distribution.png (percentile curve)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = result["series"]
    t = [row["t"] for row in series]
    title = f"{result['scenario']} / {result['profile']}"
    made = []

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(t, [row["requests"] for row in series], label="requests/s")
    ax.plot(t, [row["errors"] for row in series], label="errors/s", color="tab:red")
    ax.set_xlabel("seconds")
    ax.set_ylabel("per second")
    if any(row.get("vus") is not None for row in series):
        vus = ax.twinx()
        vus.plot(t, [row.get("vus") or 0 for row in series], color="tab:gray", ls="--")
        vus.set_ylabel("VUs / in flight")
    ax.legend(loc="upper left")
    ax.set_title(f"Throughput: {title}")
    made.append(_save(fig, folder / "throughput.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        ax.plot(t, [row[key] for row in series], label=key.replace("_ms", ""))
    ax.set_xlabel("seconds")
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper left")
    ax.set_title(f"Latency per second: {title}")
    made.append(_save(fig, folder / "latency.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    dist = result["distribution_us"]
    total = sum(count for _, count in dist) or 1
    seen, xs, ys = 0, [], []
    for value, count in dist:
        seen += count
        xs.append(value / _MS)
        ys.append(100 * seen / total)
    ax.plot(xs, ys, drawstyle="steps-post")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log)")
    ax.set_ylabel("percentile")
    ax.set_title(f"Latency distribution: {title}")
    made.append(_save(fig, folder / "distribution.png"))
    return made


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def latest(results: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The newest complete result per (scenario, profile, scenario options) under `results`,
    sorted by name."""
    newest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in sorted(Path(results).glob("*/result.json")):
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        result["_folder"] = str(path.parent)
        options = (result.get("config") or {}).get("options") or {}
        key = (result["scenario"], str(result["profile"]), json.dumps(options, sort_keys=True))
        if key not in newest or result["started_at"] >= newest[key]["started_at"]:
            newest[key] = result
    return [newest[key] for key in sorted(newest)]
