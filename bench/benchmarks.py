"""BENCHMARKS.md from a set of results: ingest (HTTP and MQTT) and query with their baselines, the
API scenarios, the TUM study's figures next to ours, the cost projection, cold start and memory
per function, the machine, and the command that reproduces it all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import machine_line

__all__ = ["API", "INGEST", "QUERY", "render"]

INGEST = ("ingest-single", "ingest-batch", "mqtt-qos0", "mqtt-qos1")
QUERY = ("query-range", "query-agg")
API = ("signin", "device-list", "sensor-create", "sensor-get")

# TUM iotplatform study (K6, 100 VUs; GKE, OpenWhisk and Cloud Run on Google Cloud)
_STUDY = [
    ("HTTP gateway, average latency (linear, 100 VUs)", "OpenWhisk 28 ms, Cloud Run 50 ms, "
     "GKE 54-67 ms", "ingest-single", "mean"),
    ("Users sign-in, average latency", "351-519 ms", "signin", "mean"),
    ("Sensor get, average latency", "GKE 11 ms, Cloud Run 31 ms, OpenWhisk 310 ms",
     "sensor-get", "mean"),
    ("Sensor create (sprint), goodput", "Cloud Run 69%, OpenWhisk 89%", "sensor-create",
     "goodput"),
    ("Throughput ceiling", "OpenWhisk capped near 2,000 requests per 10 s (200 req/s)",
     "ingest-single", "rps"),
    ("Cost per 1,000 gateway requests", "GKE 0.12, OpenWhisk 0.26, Cloud Run 0.071 euro-cent "
     "(Cloud Logging two thirds of the bill)", "ingest-single", "cost"),
]  # fmt: skip
_OTHERS = [
    "Mainflux (3 x 8 vCPU): 3,000 MQTT publishers at 3,000 msg/s, publish-to-ack p95 85 ms, "
    "no loss.",
    "ThingsBoard single node (36 vCPU at 55% CPU): 33,333 data points/s (11,111 msg/s).",
]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _by_name(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Runs per scenario; runs of one scenario with other options (batch sizes) in order of
    readings per request."""
    found: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        found.setdefault(r["scenario"], []).append(r)
    return {name: sorted(runs, key=_readings) for name, runs in found.items()}


def _readings(r: dict[str, Any]) -> float:
    return float((r.get("costs_per_request") or {}).get("readings") or 0)


def _label(r: dict[str, Any]) -> str:
    """The scenario and the options it ran with: `ingest-batch batch=100`."""
    options = dict((r.get("config") or {}).get("options") or {})
    if r["scenario"] == "ingest-batch" and "batch" not in options:  # its default, shown
        options["batch"] = int(_readings(r))
    return " ".join([r["scenario"], *(f"{k}={v}" for k, v in sorted(options.items()))])


def _baseline_cells(r: dict[str, Any]) -> list[str]:
    base = r.get("baseline") or {}
    if not base:
        return ["-", "-", "-", "-"]
    ratio = base.get("ratios") or {}
    return [
        str(base.get("name", "-")),
        f"{base['throughput_rps']:,.1f} req/s, p95 {_ms(base['latency_ms']['p95'])} ms"
        if "latency_ms" in base
        else "-",
        str(ratio.get("throughput", "-")),
        str(ratio.get("p95", "-")),
    ]


def _table(header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align.split()) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _ingest(by: dict[str, list[dict[str, Any]]]) -> list[str]:
    rows = []
    for name in INGEST:
        for r in by.get(name, []):
            lat = r["latency_ms"]
            rows.append([
                _label(r), str(r["profile"]), f"{r['requests']:,}", f"{100 * r['goodput']:.1f}%",
                _num(r["goodput_rps"] * _readings(r)), _ms(lat.get("mean")), _ms(lat["p50"]),
                _ms(lat["p95"]), _ms(lat["p99"]), *_baseline_cells(r),
            ])  # fmt: skip
    if not rows:
        return ["No ingest runs in these results."]
    header = ["scenario", "profile", "requests", "goodput", "readings/s", "mean ms", "p50 ms",
              "p95 ms", "p99 ms", "baseline", "baseline figures", "thr. ratio",
              "p95 ratio"]  # fmt: skip
    lines = [
        "Readings/s counts the readings in successful requests (HTTP 2xx, MQTT PUBACK or socket",
        "write) per second of load. MQTT latency is publish -> PUBACK at QoS 1 and publish -> the",
        "packet written to the TCP socket at QoS 0 (no acknowledgement exists: it measures the",
        "client). Baselines: HTTP against a trivial echo function on the stock functions-framework",
        "server, MQTT against a plain Mosquitto (anonymous, no persistence) with one plain paho",
        "subscriber, the same profile in the same run. Ratios are Stratus / baseline.",
        "",
    ]
    lines += _table(header, "--- --- ---: ---: ---: ---: ---: ---: ---: --- --- ---: ---:", rows)
    return [*lines, "", *_end_to_end(by)]


def _end_to_end(by: dict[str, list[dict[str, Any]]]) -> list[str]:
    rows = []
    for name in INGEST:
        for r in by.get(name, []):
            e2e = r.get("e2e")
            if not e2e:
                continue
            base = (r.get("baseline") or {}).get("e2e") or {}
            ratio = ((r.get("baseline") or {}).get("ratios") or {}).get("e2e_per_second")
            rows.append([
                _label(r), str(r["profile"]), f"{e2e['published']:,}", f"{e2e[e2e['what']]:,}",
                f"{e2e['lost']:,}", _num(e2e["per_second"]), f"{e2e['seconds']:.1f}",
                _num(base.get("per_second")), f"{base['lost']:,}" if base else "-",
                str(ratio) if ratio is not None else "-",
            ])  # fmt: skip
    if not rows:
        return []
    header = ["scenario", "profile", "published", "queryable", "lost", "stored/s", "seconds",
              "baseline received/s", "baseline lost", "ratio"]  # fmt: skip
    return [
        "### End to end: readings queryable through the query API",
        "",
        "Published = readings in acknowledged (QoS 1) or sent (QoS 0) messages; queryable =",
        "counted back with `agg=count` after the load (polled every 0.25 s until all arrived or",
        "none came for 15 s); stored/s = queryable / seconds from the start of the load to the",
        "poll that saw the last one (so it includes the drain after the load). The baseline",
        "counts the messages its plain subscriber received, polled the same way.",
        "",
        *_table(header, "--- --- ---: ---: ---: ---: ---: ---: ---: ---:", rows),
        "",
    ]


def _plain(by: dict[str, list[dict[str, Any]]], names: tuple[str, ...], with_base: bool,
           ) -> list[str]:  # fmt: skip
    rows = []
    for name in names:
        for r in by.get(name, []):
            lat = r["latency_ms"]
            row = [name, str(r["profile"]), f"{r['requests']:,}", f"{100 * r['goodput']:.1f}%",
                   _num(r["throughput_rps"]), _ms(lat.get("mean")), _ms(lat["p50"]),
                   _ms(lat["p95"]), _ms(lat["p99"]), _ms(lat["max"])]  # fmt: skip
            rows.append(row + (_baseline_cells(r) if with_base else []))
    if not rows:
        return ["No runs of these scenarios in these results.", ""]
    header = ["scenario", "profile", "requests", "goodput", "req/s", "mean ms", "p50 ms",
              "p95 ms", "p99 ms", "max ms"]  # fmt: skip
    align = "--- --- ---: ---: ---: ---: ---: ---: ---: ---:"
    if with_base:
        header += ["baseline", "baseline figures", "thr. ratio", "p95 ratio"]
        align += " --- --- ---: ---:"
    return [*_table(header, align, rows), ""]


def _ours(r: dict[str, Any] | None, kind: str) -> str:
    if r is None:
        return "not run"
    where = f" ({r['profile']}, peak {_peak(r)} VUs)"
    if kind == "mean":
        return f"{_ms(r['latency_ms'].get('mean'))} ms{where}"
    if kind == "goodput":
        return f"{100 * r['goodput']:.1f}%{where}"
    if kind == "rps":
        return f"{r['throughput_rps']:,.1f} req/s{where}"
    cost = r.get("cost") or {}
    value = cost.get("euro_cent_per_1000_requests")
    if value is None:
        return "-"
    measured = "" if cost.get("cpu_measured") else ", CPU not measured"
    return f"{value:.4f} euro-cent (projected from list prices{measured})"


def _peak(r: dict[str, Any]) -> int:
    return max((row.get("vus") or 0 for row in r.get("series", [])), default=0)


def _study(by: dict[str, list[dict[str, Any]]], machine: str) -> list[str]:
    rows = []
    for figure, theirs, scenario, kind in _STUDY:
        runs = by.get(scenario)
        rows.append([figure, theirs, _ours(runs[0] if runs else None, kind)])
    header = ["figure", "TUM study (on Google Cloud)", f"Stratus (ours: {machine})"]
    return [
        "Theirs ran on a cloud (managed Kubernetes, OpenWhisk, Cloud Run) with the load",
        "generator elsewhere; ours ran on one machine whose cores the load generator, the emulator",
        "(functions, bus, store, broker) and the baselines shared. Their latencies include the",
        "network to a cloud region; ours are loopback. Compare shapes and ratios, not absolutes.",
        "",
        *_table(header, "--- --- ---", rows),
        "",
        "Other published figures, for the MQTT path: " + " ".join(_OTHERS),
        "",
    ]


def _costs(results: list[dict[str, Any]]) -> list[str]:
    rows, checked = [], None
    for r in results:
        cost = r.get("cost") or {}
        if cost.get("per_1000_requests") is None:
            continue
        checked = cost.get("prices_checked")
        per_million = cost.get("per_million_readings")
        rows.append([
            _label(r), str(r["profile"]), f"{cost['per_1000_requests'] * 100:.4f}",
            f"{cost['euro_cent_per_1000_requests']:.4f}",
            "-" if per_million is None else f"{per_million:.4f}",
            "yes" if cost.get("cpu_measured") else "no",
        ])  # fmt: skip
    if not rows:
        return ["No cost projections in these results.", ""]
    header = ["scenario", "profile", "US cent / 1,000 requests", "euro-cent / 1,000 requests",
              "USD / million readings", "CPU measured"]  # fmt: skip
    return [
        f"From the measured counts and `bench/prices.toml` (list prices checked {checked}):",
        "Cloud Run CPU, memory and requests, Pub/Sub bytes, Firestore operations. For runs that",
        "count readings back (ingest, MQTT) against the emulator, store writes and bus messages",
        "are measured in the store after the run (chunk documents; each raw message two publishes",
        "and two pushes, the pushes billed as requests too); otherwise they are per-request",
        "estimates. CPU is the whole emulator's (functions, bus and store emulators, broker): an",
        "upper bound for Cloud Run's. The broker is not priced. The TUM study's figures per 1,000",
        "gateway requests: GKE 0.12, OpenWhisk 0.26, Cloud Run 0.071 euro-cent.",
        "",
        *_table(header, "--- --- ---: ---: ---: ---", rows),
        "",
    ]


def _coldstart(rows: list[dict[str, Any]] | None) -> list[str]:
    if not rows:
        return ["Not measured (`python -m bench coldstart`).", ""]
    table = [
        [c["function"], str(c.get("kind", "-")), c.get("request", "-"), str(c.get("total_s")),
         str(c.get("import_s")), str(c.get("first_request_s")), _answer(c),
         str(c.get("max_rss_mib"))]
        for c in rows
    ]  # fmt: skip
    header = ["function", "kind", "first request", "total s", "import s", "first request s",
              "answer", "max RSS MiB"]  # fmt: skip
    return [
        "A fresh `python` process per function imports its main module and sends one first",
        "request through its entry point (HTTP: its first route, without a token; events: an",
        "empty message); the answer column shows what it got. Total includes the interpreter's",
        "start. Max RSS is that process' peak resident memory (VmHWM).",
        "",
        *_table(header, "--- --- --- ---: ---: ---: --- ---:", table),
        "",
    ]


def _answer(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"error: {row['error']}".replace("|", "/")
    if "status" in row:
        return f"HTTP {row['status']}"
    return str(row.get("outcome", "-")).replace("|", "/")


def _run(by: dict[str, list[dict[str, Any]]], scenario: str, profile: str | None = None,
         batch: int | None = None) -> dict[str, Any] | None:  # fmt: skip
    for r in by.get(scenario, []):
        if (profile is None or r.get("profile") == profile) and (
            batch is None or int(_readings(r)) == batch
        ):
            return r
    return None


def _targets(by: dict[str, list[dict[str, Any]]], aggregate: dict[str, Any] | None) -> list[str]:
    """Issue 16's table: each figure of this run next to its goal."""
    single = _run(by, "ingest-single", "linear")
    batch = _run(by, "ingest-batch", batch=100)
    query = _run(by, "query-range")
    open_loop = _run(by, "ingest-single", "rate")
    rows: list[list[str]] = []
    e2e = (single or {}).get("e2e") or {}
    base = ((single or {}).get("baseline") or {}).get("throughput_rps")
    rows.append(
        [
            "single-reading ingest: stored/s / functions-framework echo req/s",
            f"{e2e.get('per_second', '-')} / {_num(base)} = "
            f"{_num(e2e['per_second'] / base, 3) if e2e and base else '-'}",
            ">= 1.0",
        ]
    )
    rows.append(
        [
            "batches of 100: readings stored/s",
            _num(((batch or {}).get("e2e") or {}).get("per_second")),
            ">= 20,000",
        ]
    )
    ratio = (((query or {}).get("baseline") or {}).get("ratios") or {}).get("throughput")
    rows.append(["query, range of 1,000 readings / echo req/s", _num(ratio, 3), ">= 0.5"])
    server = (aggregate or {}).get("server_ms") or {}
    rows.append(
        [
            "1-day per-minute aggregate, server time p50 (p95)",
            f"{_ms(server.get('p50'))} ({_ms(server.get('p95'))}) ms" if server else "-",
            "<= 50 ms",
        ]
    )
    p99 = ((open_loop or {}).get("latency_ms") or {}).get("p99")
    rows.append(
        [
            "single reading, open loop 200 req/s: p99 latency",
            f"{_ms(p99)} ms" if p99 else "-",
            "<= 25 ms",
        ]
    )
    usd = ((single or {}).get("cost") or {}).get("per_million_readings")
    rows.append(["cost projection, USD per million single readings", _num(usd, 3), "<= 0.5"])
    runs = [r for runs in by.values() for r in runs if r.get("e2e")]
    lost = sum(int(r["e2e"].get("lost", 0)) for r in runs)
    twice = sum(int(r["e2e"].get("duplicated", 0)) for r in runs)
    rows.append(["readings lost / stored twice, all runs", f"{lost} / {twice}", "0 / 0"])
    return [*_table(["figure", "this run", "goal"], "--- ---: ---", rows), ""]


def keep_sections(before: str, document: str) -> str:
    """`document` with the sections other commands splice in (anomaly detection, cold start of
    the deployed artefacts) carried over from the file it replaces."""
    from bench import coldstart_artefacts, detect
    from bench.emulators import splice

    for heading in (detect.HEADING, coldstart_artefacts.HEADING):
        if heading in before and heading not in document:
            rest = before.split(heading, 1)[1]
            after = rest.find("\n## ")
            section = heading + (rest[:after] if after >= 0 else rest)
            document = splice(document, [*section.rstrip("\n").split("\n"), ""], heading)
    return document


def render(results: list[dict[str, Any]], coldstart: list[dict[str, Any]] | None = None,
           suite: dict[str, Any] | None = None, emulators: dict[str, Any] | None = None,
           aggregate: dict[str, Any] | None = None) -> str:  # fmt: skip
    """The whole BENCHMARKS.md (`emulators`: the latest `python -m bench emulators` result;
    `aggregate`: `python -m bench aggregate`'s)."""
    by = _by_name(results)
    info = results[0]["machine"] if results else {}
    machine = f"one machine, {info.get('cpus')} CPUs" if info else "one machine"
    suite = suite or {}
    command = suite.get("command")
    lines = ["# Stratus benchmarks", ""]
    if command:
        when = suite.get("finished_at", "")
        lines += [f"Generated {when} by one command (against a running emulator):",
                  "", "```bash", command, "```", ""]  # fmt: skip
    else:
        lines += ["Generated by `python -m bench report` from the latest run of each scenario;",
                  "the commands are at the end.", ""]  # fmt: skip
    if info:
        lines += [
            f"Machine: {machine_line(info)}; {info.get('platform')}"
            + (f"; load average at start {' '.join(info['loadavg'])}" if info.get("loadavg")
               else "") + ".",
            "The load generator, the platform under test and the baselines shared these cores, so",
            "every figure is a floor for the code, not a capacity of the design: compare ratios",
            "measured in the same run.",
            "",
        ]  # fmt: skip
    failures = suite.get("failures") or {}
    if failures:
        lines += ["Runs that failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()), ""]
    lines += ["## Targets of issue 16 (this run)", "", *_targets(by, aggregate)]
    lines += ["## Ingest: HTTP and MQTT", "", *_ingest(by)]
    lines += ["## Query", "", *_plain(by, QUERY, True)]
    lines += ["## API scenarios", "", *_plain(by, API, True)]
    lines += ["## Next to the TUM study", "", *_study(by, machine)]
    lines += ["## Cost projection", "", *_costs(results)]
    if aggregate:
        from bench.aggregate import section as aggregate_section

        lines += aggregate_section(aggregate)
    lines += ["## Cold start and memory per function", "", *_coldstart(coldstart)]
    if emulators:
        from bench.emulators import section

        lines += section(emulators)
    known = set(INGEST + QUERY + API)
    others = tuple(sorted({r["scenario"] for r in results} - known))
    if others:
        lines += ["## Other scenarios", "", *_plain(by, others, True)]
    lines += ["## How to reproduce", ""]
    if command:
        lines += [f"Everything: `{command}` (then `python -m bench report`). Each run alone:", ""]
    lines += [f"- `{r['command']}`" for r in results] + [""]
    folders = sorted({str(Path(r["_folder"]).parent) for r in results if r.get("_folder")})
    if folders:
        where = ", ".join(f"`{f}`" for f in folders)
        lines += [f"Each run's result.json, summary.md and plots are under {where}.", ""]
    return "\n".join(lines)
