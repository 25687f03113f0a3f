"""`python -m emulator`: start the whole Stratus platform on one machine.

Every flag has an environment variable; `0` for a port picks a free one. Every address is printed
and written to `<data-dir>/endpoints.json`. Ctrl-C or SIGTERM stops everything cleanly.
`python -m emulator reset-admin-password` gives a user a new password (emulator/admin_password.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from emulator.demo import demo_component
from emulator.platform import Platform, PlatformConfig
from emulator.process import PortInUse
from emulator.supervisor import StartupError
from shared.manifest import ManifestError

__all__ = ["main", "parse_args"]

VERSION = "0.1.0"

# flag, variable, default, help, the name PortInUse gives it (emulator/platform.py)
_PORTS = (
    ("--port", "STRATUS_PORT", 8080, "functions' base URL port", "functions"),
    ("--firestore-port", "STRATUS_FIRESTORE_PORT", 8180, "Firestore-compatible gRPC port",
     "firestore"),
    ("--pubsub-port", "STRATUS_PUBSUB_PORT", 8185, "Pub/Sub-compatible gRPC port", "pubsub"),
    ("--mqtt-port", "STRATUS_MQTT_PORT", 1883, "MQTT broker port", "mqtt"),
    ("--mqtt-ws-port", "STRATUS_MQTT_WS_PORT", 9001, "MQTT-over-WebSockets port", "mqtt-ws"),
    ("--ws-port", "STRATUS_WS_PORT", 8765, "WebSocket ingest gateway port", "websocket"),
)  # fmt: skip


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"error: {name}={raw!r} is not a number") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Run Stratus locally: functions, Firestore, Pub/Sub and an MQTT broker.",
    )
    env = os.environ.get
    parser.add_argument(
        "--host", default=env("STRATUS_HOST", "127.0.0.1"), help="bind address [STRATUS_HOST]"
    )
    for flag, variable, default, text, _ in _PORTS:
        parser.add_argument(
            flag, type=int, default=_env_int(variable, default), help=f"{text} [{variable}]"
        )
    parser.add_argument(
        "--data-dir",
        default=env("STRATUS_DATA_DIR", ".stratus"),
        help="where data, keys and logs live [STRATUS_DATA_DIR]",
    )
    parser.add_argument(
        "--manifest",
        default=env("STRATUS_MANIFEST", "serverless.yml"),
        help="the functions manifest [STRATUS_MANIFEST]",
    )
    parser.add_argument(
        "--project",
        default=env("STRATUS_PROJECT", "stratus-local"),
        help="Google Cloud project id the local services use [STRATUS_PROJECT]",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=_env_int("STRATUS_WORKERS", os.cpu_count() or 1),
        help="function host worker processes [STRATUS_WORKERS]",
    )
    parser.add_argument(
        "--bridges",
        type=int,
        default=_env_int("STRATUS_BRIDGES", 1),
        help="MQTT bridge processes sharing the device traffic [STRATUS_BRIDGES]",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=env("STRATUS_DEMO", "") in {"1", "true", "yes"},
        help="also run a simulated fleet of devices (emulator/demo.py) [STRATUS_DEMO]",
    )
    parser.add_argument(
        "--demo-devices",
        type=int,
        default=_env_int("STRATUS_DEMO_DEVICES", 24),
        help="devices of the demo fleet [STRATUS_DEMO_DEVICES]",
    )
    parser.add_argument(
        "--demo-interval",
        type=float,
        default=float(env("STRATUS_DEMO_INTERVAL", "1") or 1),
        help="seconds between a demo device's readings [STRATUS_DEMO_INTERVAL]",
    )
    parser.add_argument(
        "--mqtt-autosave-changes",
        type=int,
        default=_env_int("STRATUS_MQTT_AUTOSAVE_CHANGES", 10),
        help="the broker writes its snapshot after this many changes (1: after each; fewer "
        "acknowledged messages die with a crash, at a cost in throughput; docs/ARCHITECTURE.md) "
        "[STRATUS_MQTT_AUTOSAVE_CHANGES]",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show every component's log on the console instead of in <data-dir>/logs",
    )
    args = parser.parse_args(argv)
    for flag, *_ in _PORTS:
        value = getattr(args, flag[2:].replace("-", "_"))
        if not 0 <= value <= 65535:
            parser.error(f"{flag} {value} is not a port (0..65535)")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.bridges < 0:
        parser.error("--bridges must be at least 0")
    if args.mqtt_autosave_changes < 1:
        parser.error("--mqtt-autosave-changes must be at least 1")
    if args.demo_devices < 1 or args.demo_interval <= 0:
        parser.error("--demo-devices must be at least 1 and --demo-interval above 0")
    return args


def run(args: argparse.Namespace) -> int:
    os.umask(0o077)  # data, keys, databases and logs: this user's only (children inherit it)
    config = PlatformConfig(
        host=args.host,
        port=args.port,
        firestore_port=args.firestore_port,
        pubsub_port=args.pubsub_port,
        mqtt_port=args.mqtt_port,
        mqtt_ws_port=args.mqtt_ws_port,
        data_dir=Path(args.data_dir).resolve(),
        manifest=Path(args.manifest).resolve(),
        project=args.project,
        workers=args.workers,
        verbose=args.verbose,
        ws_port=args.ws_port,
        bridges=args.bridges,
        mqtt_autosave_changes=args.mqtt_autosave_changes,
    )
    platform = Platform(config)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        platform.supervisor.request_stop()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"Stratus emulator {VERSION} starting (data in {config.data_dir})", flush=True)
    code = 0
    try:
        platform.start()
        if args.demo:  # a simulated fleet (emulator/demo.py)
            devices, interval = args.demo_devices, args.demo_interval
            demo = demo_component(
                platform.base_url, config.data_dir, platform.env, devices=devices, interval=interval
            )
            platform.supervisor.start(demo)
            print(f"  demo        {devices} devices, readings every {interval:g} s", flush=True)
        print(platform.summary(), flush=True)
        platform.supervisor.watch()
    except StartupError as exc:
        if not platform.supervisor.stopping:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            code = 1
    finally:
        platform.stop()
    print("Stratus emulator stopped", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["reset-admin-password"]:
        from emulator.admin_password import main as reset

        return reset(argv[1:])
    args = parse_args(argv)
    try:
        return run(args)
    except PortInUse as exc:
        print(f"error: {exc}; {_port_hint(exc.name)}", file=sys.stderr)
        return 2
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _port_hint(name: str) -> str:
    """How to choose another port for component `name`."""
    for flag, variable, _, _, component in _PORTS:
        if component == name:
            return f"choose another with {flag} (or {variable}), 0 for a free one"
    return "choose another port"
