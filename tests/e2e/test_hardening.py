"""The running emulator as an operator finds it: the main process holds no gRPC (it forks every
component; grpc/grpc#43055), its data is private to its user, and every listener, MQTT over
WebSockets included, is bound to the host it was given."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest

from tests.support.emulator import RunningEmulator

pytestmark = [pytest.mark.e2e, pytest.mark.process]


def test_the_main_process_never_loads_grpc(platform: RunningEmulator) -> None:
    """Seeding and bus setup run in a child (emulator.setup): a fork after gRPC use crashed a
    restarted component with `epoll_wait error: Bad file descriptor` (exit -6)."""
    maps = Path(f"/proc/{platform.endpoints['pid']}/maps").read_text()
    assert "cygrpc" not in maps and "grpc" not in maps


def test_the_data_directory_is_private(platform: RunningEmulator) -> None:
    exposed = []
    for path in [platform.data_dir, *platform.data_dir.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            exposed.append(f"{path.relative_to(platform.data_dir)} {oct(mode & 0o777)}")
    assert exposed == []  # keys, databases, accounts, endpoints.json, logs: 0600 / 0700


def _listening(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Local addresses of the sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append(
                ipaddress.ip_address(words) if width == 8 else ipaddress.IPv6Address(words)
            )
    return found


def test_mqtt_over_websockets_listens_on_the_host_only(platform: RunningEmulator) -> None:
    """Mosquitto 2.0 bound its WebSocket listener to every interface whatever the address."""
    port = int(str(platform.endpoints["mqtt_ws"]).rsplit(":", 1)[1])
    addresses = _listening(port)
    assert addresses, "nothing listens on the MQTT-over-WebSockets port"
    for address in addresses:
        mapped = getattr(address, "ipv4_mapped", None)
        assert (mapped or address).is_loopback, address  # the emulator's host is 127.0.0.1
