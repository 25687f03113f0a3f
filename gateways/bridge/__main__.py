"""`python -m gateways.bridge`: the long-running MQTT -> bus bridge, wired from the environment.

Broker address and login from STRATUS_MQTT_* (`shared.clients.broker_settings`), the bus from
`shared.clients.bus()`, device -> organisation from the store's `device_index` (cached). SIGTERM
or Ctrl-C stops it cleanly: it leaves the shared subscription, publishes every held batch, waits
for the bus to confirm, acknowledges, and only then ends its MQTT session (see README.md).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from gateways.bridge.directory import OrgDirectory
from gateways.bridge.mqtt import MqttBridge
from gateways.bridge.settings import BridgeSettings
from shared import clients, logs
from shared.directory import device_org
from shared.settings import env_int

_log = logging.getLogger("stratus.bridge")


def main() -> int:
    logs.configure(os.environ.get("STRATUS_LOG_LEVEL", "INFO").upper(), "bridge")
    try:
        settings = BridgeSettings.from_env(os.environ, clients.broker_settings())
        stop_timeout = env_int(os.environ, "STRATUS_BRIDGE_STOP_TIMEOUT", 20, minimum=1)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ready_file = os.environ.get("STRATUS_BRIDGE_READY_FILE", "")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    bus = clients.bus()
    org_of = OrgDirectory(lambda device: device_org(clients.store(), device))
    bridge = MqttBridge(settings, bus, org_of)
    bridge.start()
    _log.info("bridge %s started for %s:%d", settings.client_id, settings.broker.host,
              settings.broker.port)  # fmt: skip
    while not stop.is_set():
        if bridge.subscribed.wait(0.2) and ready_file and not Path(ready_file).exists():
            Path(ready_file).touch()
        stop.wait(0.2)
    done = bridge.stop(stop_timeout)
    bus.close()
    if ready_file:
        Path(ready_file).unlink(missing_ok=True)
    _log.info("bridge stopped (%s)", "clean" if done else "session kept with unacknowledged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
