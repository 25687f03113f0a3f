"""Which network interface of this machine holds an address (Linux: ioctl and /proc)."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from pathlib import Path

__all__ = ["interface_of"]

_SIOCGIFADDR = 0x8915


def _ipv4_of(name: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()))
        except OSError:
            return None  # the interface has no IPv4 address
    return socket.inet_ntoa(packed[20:24])


def _ipv6_interfaces() -> dict[str, str]:
    table = Path("/proc/net/if_inet6")
    found = {}
    if table.exists():
        for line in table.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6:
                address = ipaddress.IPv6Address(int(fields[0], 16))
                found[str(address)] = fields[5]
    return found


def interface_of(host: str) -> str | None:
    """The name of the interface that has `host` (an address or a name that resolves to one,
    e.g. `127.0.0.1` or `localhost` -> `lo`), or None when no interface has it."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return None
    addresses = [str(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])) for info in infos]
    v6 = _ipv6_interfaces()
    for address in addresses:
        if ":" in address:
            if address in v6:
                return v6[address]
            continue
        for _, name in socket.if_nameindex():
            if _ipv4_of(name) == address:
                return name
    return None
