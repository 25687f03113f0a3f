"""Process helpers shared by the emulator's parts: dying with the parent, finding free ports,
private files, tuning the garbage collector for a long-lived server."""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import signal
import socket
import sys
from pathlib import Path

__all__ = [
    "PortInUse",
    "check_port",
    "die_with_parent",
    "free_port",
    "make_private",
    "server_collector",
    "write_private",
]

_PR_SET_PDEATHSIG = 1
# Allocations (minus frees) between two collections of the youngest generation; CPython's is 700.
YOUNG_THRESHOLD = 20_000


class PortInUse(RuntimeError):
    """A port the emulator was asked to use is taken."""

    def __init__(self, name: str, host: str, port: int) -> None:
        super().__init__(f"{name} port {port} on {host} is already in use")
        self.name, self.host, self.port = name, host, port


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


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable and writable by this user only."""
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    temp.replace(path)


def make_private(root: Path) -> None:
    """Take group and world access away from `root` and everything under it (directories 0700,
    files 0600): a data directory made by an older version, or with a lax umask."""
    root.chmod(0o700)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            Path(folder, name).chmod(0o700)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & 0o700)


def server_collector() -> None:
    """Tune the cyclic garbage collector once a server process has loaded its code.

    Everything alive after start-up (modules, classes, clients) lives as long as the process:
    `gc.freeze()` takes it out of every later collection. Requests allocate thousands of short
    lived containers (a dict per reading, many times per message) that reference counting frees
    at once; collecting the youngest generation every 20,000 net allocations instead of every
    700 leaves the cycles to the collector without rescanning live objects dozens of times per
    request (the collector was about 5% of the host's CPU under load).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
