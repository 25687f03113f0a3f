"""Start, watch and stop the emulator's processes in order; restart one that crashes."""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emulator.process import die_with_parent

__all__ = ["Component", "StartupError", "Supervisor"]

_log = logging.getLogger("stratus.emulator")


class StartupError(RuntimeError):
    """A component did not become ready; the message says which and shows its last log lines."""


@dataclass
class Component:
    """One child process of the emulator."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    before_start: Callable[[], None] | None = None
    after_start: Callable[[], None] | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=5))


class Supervisor:
    """Runs components as children that die with it (even on kill -9 of the emulator)."""

    def __init__(self, log_dir: Path, *, verbose: bool = False) -> None:
        self.log_dir = log_dir
        self.verbose = verbose
        self.components: list[Component] = []
        self.stopping = False

    def log_path(self, component: Component) -> Path:
        return self.log_dir / f"{component.name}.log"

    def _spawn(self, component: Component) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = None if self.verbose else open(self.log_path(component), "ab")  # noqa: SIM115
        env = {**os.environ, **component.env}
        try:
            component.process = subprocess.Popen(
                list(component.argv),
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                env=env,
                preexec_fn=die_with_parent,
            )
        finally:
            if out is not None:
                out.close()

    def tail(self, component: Component, lines: int = 15) -> str:
        try:
            text = self.log_path(component).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self, component: Component) -> None:
        """Spawn `component` and wait until it is ready, or raise StartupError."""
        if component.before_start:
            component.before_start()
        self._spawn(component)
        if component not in self.components:
            self.components.append(component)
        deadline = time.monotonic() + component.timeout
        assert component.process is not None
        while True:
            if component.process.poll() is not None:
                raise StartupError(
                    f"{component.name} exited with code {component.process.returncode} while "
                    f"starting; last lines of {self.log_path(component)}:\n{self.tail(component)}"
                )
            if component.ready():
                break
            if self.stopping:
                raise StartupError(f"interrupted while {component.name} was starting")
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{component.name} was not ready after {component.timeout:.0f}s; last lines "
                    f"of {self.log_path(component)}:\n{self.tail(component)}"
                )
            time.sleep(0.05)
        if component.after_start:
            component.after_start()

    def watch(self, interval: float = 0.5) -> None:
        """Until stopped: restart a component that exits, at most 5 times a minute."""
        while not self.stopping:
            for component in list(self.components):
                process = component.process
                if self.stopping or process is None or process.poll() is None:
                    continue
                now = time.monotonic()
                recent = [t for t in component.restarts if now - t < 60]
                if len(recent) >= 5:
                    _log.error("%s keeps crashing; giving up on the emulator", component.name)
                    print(
                        f"error: {component.name} crashed 5 times in a minute; see "
                        f"{self.log_path(component)}",
                        file=sys.stderr,
                    )
                    self.stopping = True
                    break
                component.restarts.append(now)
                print(
                    f"{component.name} exited with code {process.returncode}; restarting",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    self.start(component)
                except StartupError as exc:
                    print(f"error: {exc}", file=sys.stderr, flush=True)
            time.sleep(interval)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every child, newest first; SIGKILL those still alive after `timeout`."""
        self.stopping = True
        for component in reversed(self.components):
            process = component.process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
