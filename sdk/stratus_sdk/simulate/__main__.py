"""`python -m stratus_sdk.simulate --target URL (--token T | --username U --password P)`: run a
simulated fleet against any Stratus deployment until Ctrl-C (or `--duration` seconds)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from stratus_sdk.admin import AdminClient
from stratus_sdk.simulate.fleet import Fleet, FleetOptions

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m stratus_sdk.simulate", description=__doc__)
    parser.add_argument("--target", default=env("STRATUS_URL", "http://127.0.0.1:8080"),
                        help="the deployment's base URL [STRATUS_URL]")  # fmt: skip
    parser.add_argument("--token", default=env("STRATUS_TOKEN"), help="an admin user token")
    parser.add_argument("--username", default=env("STRATUS_USERNAME", "admin"))
    parser.add_argument("--password", default=env("STRATUS_ADMIN_PASSWORD"),
                        help="the admin's password [STRATUS_ADMIN_PASSWORD]")  # fmt: skip
    parser.add_argument("--devices", type=int, default=24, help="fleet size (default 24)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between a device's readings (default 1)")  # fmt: skip
    parser.add_argument("--mqtt-share", type=float, default=0.5,
                        help="share of devices sending over MQTT (default 0.5)")  # fmt: skip
    parser.add_argument("--prefix", default="demo", help="external ids are <prefix>-0001...")
    parser.add_argument("--anomaly-rate", type=float, default=0.002)
    parser.add_argument("--dropout-rate", type=float, default=0.0005)
    parser.add_argument("--duration", type=float, default=None, help="stop after this many s")
    parser.add_argument("--data-dir", default=".stratus-fleet",
                        help="keys and offline buffers (default .stratus-fleet)")  # fmt: skip
    parser.add_argument("--ready-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.devices < 1 or args.interval <= 0 or not 0 <= args.mqtt_share <= 1:
        parser.error("--devices >= 1, --interval > 0 and 0 <= --mqtt-share <= 1")
    if not args.token and not args.password:
        parser.error("give --token, or --password (or STRATUS_ADMIN_PASSWORD) for --username")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    admin = (
        AdminClient(args.target, args.token)
        if args.token
        else AdminClient.sign_in(args.target, args.username, args.password)
    )
    options = FleetOptions(
        devices=args.devices, interval=args.interval, mqtt_share=args.mqtt_share,
        prefix=args.prefix, anomaly_rate=args.anomaly_rate, dropout_rate=args.dropout_rate,
    )  # fmt: skip
    fleet = Fleet(args.target, admin, Path(args.data_dir), options)

    def stop(signum: int, frame: FrameType | None) -> None:
        fleet.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    fleet.start()
    fleet.tick()
    if args.ready_file:
        Path(args.ready_file).touch()
    print(f"simulating {args.devices} devices against {args.target} (Ctrl-C to stop)", flush=True)
    try:
        fleet.run(args.duration)
    finally:
        fleet.stop()
        admin.close()
    print(f"sent {fleet.sent()} readings", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
