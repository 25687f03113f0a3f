"""`python -m bench chaos`: a soak run (mixed HTTP and MQTT load, memory of every process
sampled) or, with --chaos, the same with the broker, a bridge, a host worker and the whole
emulator killed in turn; every acknowledged reading is counted back (`bench.chaos`)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.commands.base import Command, env

__all__ = ["COMMAND"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=float(env("STRATUS_BENCH_MINUTES", 10)),
                        help="length of the load (STRATUS_BENCH_MINUTES)")  # fmt: skip
    parser.add_argument("--chaos", action="store_true", help="kill processes under the load")
    parser.add_argument("--http-rate", type=float, default=10,
                        help="HTTP requests per second, 10 readings each")  # fmt: skip
    parser.add_argument("--mqtt-rate", type=float, default=50, help="MQTT messages per second")
    parser.add_argument("--kill-every", type=float, default=40,
                        help="seconds between kills, on average (--chaos)")  # fmt: skip
    parser.add_argument("--data-dir", help="the run's own emulator data (default: a temp dir)")
    parser.add_argument("--out", help="the JSON (default bench/results/chaos.json or soak.json)")


def _main(args: argparse.Namespace, command: str) -> int:
    from bench.chaos import measure
    from bench.runner import RESULTS

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="stratus-chaos-")) / "data"
    result = measure(data_dir, minutes=args.minutes, chaos=args.chaos, http_rate=args.http_rate,
                     mqtt_rate=args.mqtt_rate, kill_every=args.kill_every)  # fmt: skip
    result["command"] = command
    out = Path(args.out or RESULTS / ("chaos.json" if args.chaos else "soak.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{result['acknowledged']:,} readings acknowledged, {result['lost']} lost, "
          f"{result['duplicated_rows']} duplicated rows, {len(result['kills'])} kills -> {out}",
          file=sys.stderr)  # fmt: skip
    return 0 if result["lost"] == 0 else 1


COMMAND = Command("chaos", "soak (memory) and chaos (kills) runs, every reading counted back",
                  _arguments, _main)  # fmt: skip
