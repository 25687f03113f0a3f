"""Start, watch and stop the emulator's processes in order; restart one that crashes."""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emulator.process import die_with_parent

__all__ = ["Component", "StartupError", "Supervisor"]

_log = logging.getLogger("stratus.emulator")

STOP_TIMEOUT = 4.0  # seconds for the whole emulator to stop (Ctrl-C), kills included
TIER_RESERVE = 1.0  # of which each lower tier keeps this much


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
    # stopped before every component of a lower tier (gateways 2, functions 1, services 0)
    tier: int = 0
    # called about every half second while the emulator runs (e.g. ask for a snapshot)
    tick: Callable[[subprocess.Popen[bytes]], None] | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=5))


class Supervisor:
    """Runs components as children that die with it (even on kill -9 of the emulator)."""

    def __init__(self, log_dir: Path, *, verbose: bool = False) -> None:
        self.log_dir = log_dir
        self.verbose = verbose
        self.components: list[Component] = []
        self.stopping = False
        self._wake = threading.Event()

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
                # Ctrl-C reaches the emulator only, which stops its children in order (a broker
                # gone before the bridges would leave their batches unacknowledged)
                process_group=0,
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
                if self.stopping or process is None:
                    continue
                if process.poll() is None:
                    if component.tick is not None:
                        component.tick(process)
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
            self._wake.wait(interval)

    def request_stop(self) -> None:
        """Ask `watch` to return now (from a signal handler)."""
        self.stopping = True
        self._wake.set()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every child within `timeout` seconds: tier by tier, highest first (gateways
        still reach the services they flush to), the children of a tier together; SIGTERM, then
        SIGKILL for those still alive at the tier's share of the deadline."""
        self.stopping = True
        deadline = time.monotonic() + timeout
        tiers = sorted({c.tier for c in self.components}, reverse=True)
        for index, tier in enumerate(tiers):
            left = len(tiers) - index - 1  # tiers after this one keep TIER_RESERVE each
            until = deadline - left * TIER_RESERVE
            alive = [
                c for c in self.components
                if c.tier == tier and c.process is not None and c.process.poll() is None
            ]  # fmt: skip
            for component in alive:
                assert component.process is not None
                component.process.send_signal(signal.SIGTERM)
            for component in alive:
                assert component.process is not None
                try:
                    component.process.wait(max(0.0, until - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _log.warning("%s did not stop in time; killing it", component.name)
                    component.process.kill()
                    component.process.wait()
