"""Test tiers: find the tests that start a process (marked `process` at collection) and refuse,
in a `make test-fast` run, any process or fixed-port server an unmarked test still starts.

A test is a process test when it, one of its fixtures (transitively) or a helper of the test
suite they call refers to something that starts a process: `subprocess`, `Popen`, the suite's
`running_service`, `running_broker`, `running_host`, `start_emulator`, `google_emulator`,
`bus_emulator`... (`starts_process` marks anything else by hand). The guard is the proof: with
STRATUS_TEST_TIER=fast (set by `make test-fast`) starting a process raises `ProcessRefused`, and
so does listening on a port the OS did not pick (in-process servers on port 0 are fine); in every
other run a test that starts a process without the `process` marker fails at teardown, naming it.
The standard library's `platform` probes (`uname -p`, `file -b` behind platform.platform() and
platform.architecture(), which croniter calls at import) are let through: they are the
interpreter describing itself, not a process a test starts.
"""

from __future__ import annotations

import _posixsubprocess
import os
import socket
import subprocess
import sys
import types
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

__all__ = [
    "FAST",
    "Guard",
    "ProcessRefused",
    "starts_process",
    "uses_processes",
]

F = TypeVar("F", bound=Callable[..., Any])
_TESTS = str(Path(__file__).resolve().parents[1])  # helpers defined in the test suite

FAST = os.environ.get("STRATUS_TEST_TIER") == "fast"

# Names whose mere use means a process (or a server of the suite) gets started.
STARTERS = frozenset(
    {
        "subprocess",
        "Popen",
        "create_subprocess_exec",
        "create_subprocess_shell",
        "multiprocessing",
        "ProcessPoolExecutor",
        "fork",
        "posix_spawn",
        "running_service",
        "running_broker",
        "running_host",
        "start_emulator",
        "google_emulator",
        "bus_emulator",
    }
)


def starts_process(function: F) -> F:
    """Mark a fixture or helper as starting a process when its code does not show it."""
    function.__dict__["starts_process"] = True
    return function


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _unwrap(value: Any) -> Any:
    while hasattr(value, "__wrapped__"):
        value = value.__wrapped__
    return getattr(value, "_fixture_function", value)


def _starts(function: Any, seen: set[int]) -> bool:
    """Whether `function` refers to a starter, itself or through helpers of the test suite."""
    function = _unwrap(function)
    if getattr(function, "starts_process", False):
        return True
    code = getattr(function, "__code__", None)
    if code is None or id(code) in seen:
        return False
    seen.add(id(code))
    scope = getattr(function, "__globals__", {})
    for inner in _codes(code):
        for name in inner.co_names:
            if name in STARTERS:
                return True
            helper = _unwrap(scope.get(name))
            source = getattr(getattr(helper, "__code__", None), "co_filename", "")
            if source.startswith(_TESTS) and _starts(helper, seen):
                return True
    return False


_verdicts: dict[Any, bool] = {}


def _cached(function: Any) -> bool:
    key = _unwrap(function)
    if key not in _verdicts:
        _verdicts[key] = _starts(key, set())
    return _verdicts[key]


def uses_processes(item: pytest.Item) -> bool:
    """Whether the test or any fixture it uses (the closure, overrides resolved) starts one."""
    if _cached(getattr(item, "function", None)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for name, definitions in info.name2fixturedefs.items() if info else ():
        # the closest definition is the one used; it reaches the next only by requesting its name
        for definition in reversed(definitions):
            if _cached(definition.func):
                return True
            if name not in definition.argnames:
                break
    return False


def _platform_probe() -> bool:
    """Whether the process about to start is one of the stdlib `platform` module's probes."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__") == "platform":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class ProcessRefused(RuntimeError):
    """A test of the fast tier tried to start a process or listen on a fixed port."""


class Guard:
    """Watches process starts and listening sockets; refuses them in the fast tier."""

    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.current: pytest.Item | None = None
        self.marked = False
        self.started: dict[str, list[str]] = {}
        self._requested: weakref.WeakKeyDictionary[socket.socket, int] = weakref.WeakKeyDictionary()

    def _where(self) -> str:
        return self.current.nodeid if self.current else "collection or session set-up"

    def note(self, what: str) -> None:
        if (self.current is not None and self.marked) or _platform_probe():
            return
        self.started.setdefault(self._where(), []).append(what)
        if self.refuse:
            raise ProcessRefused(
                f"{self._where()} {what} in `make test-fast`, which starts nothing: mark the test "
                "`process` (pytestmark = [pytest.mark.process]) or use a fake instead"
            )

    def install(self) -> None:
        guard = self
        execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]

        def _execute_child(popen: Any, args: Any, *rest: Any, **kwargs: Any) -> Any:
            guard.note(f"started a process: {args!r}"[:300])
            return execute_child(popen, args, *rest, **kwargs)

        subprocess.Popen._execute_child = _execute_child  # type: ignore[attr-defined]

        fork_exec = _posixsubprocess.fork_exec

        def _fork_exec(*args: Any, **kwargs: Any) -> Any:  # multiprocessing's spawn
            guard.note(f"started a process: {args[0]!r}"[:300] if args else "started a process")
            return fork_exec(*args, **kwargs)

        _posixsubprocess.fork_exec = _fork_exec

        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            original = getattr(os, name, None)
            if original is not None:
                setattr(os, name, self._wrapped(original, name))

        bind, listen = socket.socket.bind, socket.socket.listen

        def _bind(sock: socket.socket, address: Any) -> None:
            if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int):
                guard._requested[sock] = address[1]
            bind(sock, address)

        def _listen(sock: socket.socket, *args: Any) -> None:
            port = guard._requested.get(sock, 0)
            if port:
                guard.note(f"listened on fixed port {port} (bind port 0 and read the port back)")
            listen(sock, *args)

        socket.socket.bind = _bind  # type: ignore[method-assign,assignment]
        socket.socket.listen = _listen  # type: ignore[method-assign,assignment]

    def _wrapped(self, original: Callable[..., Any], name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.note(f"called os.{name}{args[:2]!r}"[:300])
            return original(*args, **kwargs)

        return call

    def unmarked_starts(self, item: pytest.Item) -> list[str]:
        """What `item` started without being marked `process` (and forget it)."""
        return self.started.pop(item.nodeid, [])
