"""The running emulator as an operator finds it: the main process holds no gRPC (it forks every
component; grpc/grpc#43055), its data is private to its user, and every listener, MQTT over
WebSockets included, is bound to the host it was given."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import stat
from pathlib import Path

import pytest

from tests.support.emulator import RunningEmulator, children_of

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


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _listeners() -> list[tuple[Address, int, str]]:
    """Every listening TCP socket of this host: (address, port, socket inode), from /proc/net."""
    found: list[tuple[Address, int, str]] = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            ip = ipaddress.IPv4Address(words) if width == 8 else ipaddress.IPv6Address(words)
            found.append((ip, int(hex_port, 16), fields[9]))
    return found


def _listening(port: int) -> list[Address]:
    """Local addresses of the sockets listening on `port`."""
    return [address for address, number, _ in _listeners() if number == port]


def _loopback(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def test_mqtt_over_websockets_listens_on_the_host_only(platform: RunningEmulator) -> None:
    """Mosquitto 2.0 bound its WebSocket listener to every interface whatever the address."""
    port = int(str(platform.endpoints["mqtt_ws"]).rsplit(":", 1)[1])
    addresses = _listening(port)
    assert addresses, "nothing listens on the MQTT-over-WebSockets port"
    for address in addresses:
        assert _loopback(address), address  # the emulator's host is 127.0.0.1


def test_no_process_of_the_emulator_listens_beyond_its_host(platform: RunningEmulator) -> None:
    """The same weakness anywhere: every listening socket any of the emulator's processes holds
    (services, host workers, gateways, broker, internal ports) is on the host it was given."""
    tree, todo = [], [int(str(platform.endpoints["pid"]))]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children_of(pid))
    inodes: dict[str, int] = {}
    for pid in tree:
        with contextlib.suppress(OSError):  # a process may end meanwhile
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes[target[8:-1]] = pid
    held = [(a, port, inodes[i]) for a, port, i in _listeners() if i in inodes]
    assert len(held) >= 6, held  # API, Firestore, Pub/Sub, MQTT, MQTT over WS, WebSocket
    assert [each for each in held if not _loopback(each[0])] == []
