"""`python -m emulator`: start the whole Stratus platform on one machine.

Every flag has an environment variable; `0` for a port picks a free one. Every address is printed
and written to `<data-dir>/endpoints.json`. Ctrl-C or SIGTERM stops everything cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from emulator.process import PortInUse, check_port
from emulator.supervisor import Component, StartupError, Supervisor
from shared.manifest import ManifestError, load

__all__ = ["main", "parse_args"]

VERSION = "0.1.0"


@dataclass(frozen=True)
class Ports:
    http: int
    firestore: int
    pubsub: int


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Run Stratus locally: functions, Firestore- and Pub/Sub-compatible endpoints.",
    )
    env = os.environ.get
    parser.add_argument(
        "--host",
        default=env("STRATUS_HOST", "127.0.0.1"),
        help="address every endpoint binds to [STRATUS_HOST]",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_env_int("STRATUS_PORT", 8080),
        help="functions' base URL port [STRATUS_PORT]",
    )
    parser.add_argument(
        "--firestore-port",
        type=int,
        default=_env_int("STRATUS_FIRESTORE_PORT", 8180),
        help="Firestore-compatible gRPC port [STRATUS_FIRESTORE_PORT]",
    )
    parser.add_argument(
        "--pubsub-port",
        type=int,
        default=_env_int("STRATUS_PUBSUB_PORT", 8185),
        help="Pub/Sub-compatible gRPC port [STRATUS_PUBSUB_PORT]",
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
        "-v",
        "--verbose",
        action="store_true",
        help="show every component's log on the console instead of in <data-dir>/logs",
    )
    args = parser.parse_args(argv)
    for name in ("port", "firestore_port", "pubsub_port"):
        value = getattr(args, name)
        if not 0 <= value <= 65535:
            parser.error(f"--{name.replace('_', '-')} {value} is not a port (0..65535)")
    return args


def _http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answers; readiness of the whole platform is reported separately
    except OSError:
        return False


def _write_json(path: Path, data: dict[str, object]) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(data, indent=2) + "\n")
    temp.replace(path)


def _function_env(manifest_path: str) -> dict[str, str]:
    """Provider and function environments merged; the host runs every function in one process."""
    manifest = load(manifest_path)
    merged = dict(manifest.environment)
    owners = {name: "provider" for name in merged}
    for fn in manifest.functions.values():
        for name, value in fn.environment.items():
            if name in merged and merged[name] != value and owners[name] != "provider":
                raise ManifestError(
                    f"functions {owners[name]} and {fn.name} set {name} differently; the emulator "
                    "runs all functions in one host, so give them distinct variable names"
                )
            merged[name] = value
            owners[name] = fn.name
    return merged


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = str(Path(args.manifest).resolve())
    function_env = _function_env(manifest_path)
    ports = Ports(
        http=check_port("functions", args.host, args.port),
        firestore=check_port("firestore", args.host, args.firestore_port),
        pubsub=check_port("pubsub", args.host, args.pubsub_port),
    )
    base_url = f"http://{args.host}:{ports.http}"
    firestore_addr = f"{args.host}:{ports.firestore}"
    pubsub_addr = f"{args.host}:{ports.pubsub}"
    endpoints_file = data_dir / "endpoints.json"
    ready_file = data_dir / "run" / "ready"
    ready_file.parent.mkdir(exist_ok=True)
    for stale in (endpoints_file, ready_file):
        stale.unlink(missing_ok=True)

    os.environ.update(
        FIRESTORE_EMULATOR_HOST=firestore_addr,
        PUBSUB_EMULATOR_HOST=pubsub_addr,
        STRATUS_PROJECT=args.project,
        GOOGLE_CLOUD_PROJECT=args.project,
    )
    push_token = secrets.token_urlsafe(24)
    from emulator import bootstrap

    function_env.update(bootstrap.prepare(data_dir))
    python = sys.executable
    supervisor = Supervisor(data_dir / "logs", verbose=args.verbose)

    firestore_port_file = data_dir / "run" / "firestore.port"
    pubsub_port_file = data_dir / "run" / "pubsub.port"
    components = [
        Component(
            "firestore",
            [
                python,
                "-m",
                "emulator.firestore",
                "--host",
                args.host,
                "--port",
                str(ports.firestore),
                "--data-dir",
                str(data_dir),
                "--port-file",
                str(firestore_port_file),
            ],
            before_start=lambda: firestore_port_file.unlink(missing_ok=True),
            ready=firestore_port_file.exists,
        ),
        Component(
            "pubsub",
            [
                python,
                "-m",
                "emulator.pubsub",
                "--host",
                args.host,
                "--port",
                str(ports.pubsub),
                "--data-dir",
                str(data_dir),
                "--port-file",
                str(pubsub_port_file),
            ],
            before_start=lambda: pubsub_port_file.unlink(missing_ok=True),
            ready=pubsub_port_file.exists,
        ),
        Component(
            "functions",
            [
                python,
                "-m",
                "emulator.host",
                "--host",
                args.host,
                "--port",
                str(ports.http),
                "--workers",
                str(max(1, args.workers)),
                "--manifest",
                manifest_path,
            ],
            env={
                **function_env,
                "STRATUS_MANIFEST": manifest_path,
                "STRATUS_PUSH_TOKEN": push_token,
                "STRATUS_READY_FILE": str(ready_file),
                "STRATUS_DATA_DIR": str(data_dir),
            },
            ready=lambda: _http_ready(f"{base_url}/healthz"),
        ),
    ]

    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True
        supervisor.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    print(f"Stratus emulator {VERSION} starting (data in {data_dir})", flush=True)
    code = 0
    try:
        for component in components:
            supervisor.start(component)
            if component.name == "firestore":
                bootstrap.seed(data_dir, function_env)
        from emulator.bus_setup import ensure_bus

        ensure_bus(load(manifest_path), args.project, base_url, push_token)
        endpoints = {
            "base_url": base_url,
            "firestore": firestore_addr,
            "pubsub": pubsub_addr,
            "project": args.project,
            "data_dir": str(data_dir),
            "pid": os.getpid(),
            "version": VERSION,
        }
        _write_json(endpoints_file, endpoints)
        ready_file.touch()
        print(
            f"  functions   {base_url}\n"
            f"  firestore   {firestore_addr}   (FIRESTORE_EMULATOR_HOST)\n"
            f"  pubsub      {pubsub_addr}   (PUBSUB_EMULATOR_HOST)\n"
            f"  project     {args.project}\n"
            f"  endpoints   {endpoints_file}\n"
            f"  logs        {supervisor.log_dir}\n"
            f"Stratus is ready: {base_url}/healthz  (Ctrl-C to stop)",
            flush=True,
        )
        supervisor.watch()
    except StartupError as exc:
        if not stop_requested:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            code = 1
    finally:
        supervisor.stop()
        endpoints_file.unlink(missing_ok=True)
        ready_file.unlink(missing_ok=True)
    print("Stratus emulator stopped", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
