"""Process helpers shared by the emulator's parts: dying with the parent, finding free ports."""

from __future__ import annotations

import ctypes
import errno
import signal
import socket
import sys

__all__ = ["PortInUse", "check_port", "die_with_parent", "free_port"]

_PR_SET_PDEATHSIG = 1


class PortInUse(RuntimeError):
    """A port the emulator was asked to use is taken."""

    def __init__(self, name: str, host: str, port: int) -> None:
        super().__init__(f"{name} port {port} on {host} is already in use")
        self.port = port


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send `sig` to this process when its parent dies (kill -9 of the emulator)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def free_port(host: str) -> int:
    """A port the OS considers free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port(name: str, host: str, port: int) -> int:
    """`port`, or a free one when it is 0; PortInUse when someone already listens there."""
    if port == 0:
        return free_port(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(name, host, port) from None
            raise
    return port
