"""Start, time, measure and kill the Firestore and Pub/Sub emulators (ours and Google's) for
`python -m bench emulators`: each in a process group of its own, ended by that group's id."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import grpc

__all__ = ["Server", "Service", "Vendor", "first_answer", "group_memory", "start"]

Service = Literal["firestore", "pubsub"]
Vendor = Literal["ours", "google"]
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(vendor: Vendor, service: Service, port: int, data: Path) -> list[str]:
    if vendor == "ours":
        return [
            sys.executable, "-m", f"emulator.{service}", "--host", "127.0.0.1",
            "--port", str(port), "--data-dir", str(data), "--log-level", "WARNING",
        ]  # fmt: skip
    command = ["gcloud", "beta", "emulators", service, "start", f"--host-port=127.0.0.1:{port}"]
    if service == "pubsub":  # Google's Firestore emulator keeps everything in memory
        command.append(f"--data-dir={data}")
    return command


@dataclass
class Server:
    """One running emulator; `started` is when its process was launched (perf_counter)."""

    vendor: Vendor
    service: Service
    data: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data.parent / f"{self.vendor}-{self.service}.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def launch(self) -> None:
        self.port = _free_port()
        self.data.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                _command(self.vendor, self.service, self.port, self.data),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # one group: gcloud, its wrapper and the JVM end together
                env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
            )

    def signal(self, sig: int) -> None:
        """Send `sig` to the whole group we started and wait until every member is gone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        deadline = time.monotonic() + 15
        while _members(self.process.pid) and time.monotonic() < deadline:
            self.process.poll()
            time.sleep(0.05)
        if _members(self.process.pid) and sig != signal.SIGKILL:
            self.signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        """kill -9 of every process of the emulator: nothing gets to flush."""
        self.signal(signal.SIGKILL)


def _probe(service: Service) -> Callable[[grpc.Channel], object]:
    """One cheap unary call the service answers once it serves requests."""
    if service == "pubsub":
        from google.pubsub_v1 import types as ps

        method = "/google.pubsub.v1.Publisher/ListTopics"
        request: object = ps.ListTopicsRequest(project="projects/bench-probe")
        serialize, deserialize = ps.ListTopicsRequest.serialize, ps.ListTopicsResponse.deserialize
    else:
        from google.cloud.firestore_v1 import types as fs

        method = "/google.firestore.v1.Firestore/ListCollectionIds"
        request = fs.ListCollectionIdsRequest(
            parent="projects/bench-probe/databases/(default)/documents"
        )
        serialize = fs.ListCollectionIdsRequest.serialize
        deserialize = fs.ListCollectionIdsResponse.deserialize
    # the official clients send this to an emulator (Google's refuses metadata calls without it)
    owner = (("authorization", "Bearer owner"),)
    return lambda channel: channel.unary_unary(method, serialize, deserialize)(
        request, timeout=5, metadata=owner
    )


def first_answer(server: Server, timeout: float = 120.0) -> float:
    """Seconds from launch to the first answered request (a fresh channel per try, so gRPC's
    reconnect backoff does not inflate the figure)."""
    probe = _probe(server.service)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.vendor} {server.service} exited: see {server.log}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.2):
                pass
            with grpc.insecure_channel(server.address) as channel:
                probe(channel)
            return time.perf_counter() - server.started
        except (OSError, grpc.RpcError):
            time.sleep(0.005)
    raise RuntimeError(f"{server.vendor} {server.service} did not answer in {timeout} s")


def start(vendor: Vendor, service: Service, data: Path) -> tuple[Server, float]:
    server = Server(vendor, service, data)
    server.launch()
    return server, first_answer(server)


def _members(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields[0] = state, [2] = pgrp
            pids.append(int(stat.parent.name))
    return pids


def group_memory(server: Server) -> tuple[float, float]:
    """(current, peak) resident memory of every process of the emulator, MiB (VmRSS, VmHWM)."""
    assert server.process is not None
    rss = hwm = 0
    for pid in _members(server.process.pid):
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm += int(line.split()[1])
    return rss / 1024, hwm / 1024
