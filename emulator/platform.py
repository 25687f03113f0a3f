"""The emulator's wiring: which processes make up the local platform, in which order, with what."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emulator import bootstrap
from emulator.mosquitto import Broker, MosquittoMissing
from emulator.mosquitto import prepare as prepare_broker
from emulator.process import check_port, die_with_parent, make_private, write_private
from emulator.supervisor import Component, StartupError, Supervisor
from shared.manifest import Manifest, ManifestError, load
from shared.settings import settings

__all__ = ["Platform", "PlatformConfig"]


@dataclass(frozen=True)
class PlatformConfig:
    host: str
    port: int
    firestore_port: int
    pubsub_port: int
    mqtt_port: int
    mqtt_ws_port: int
    data_dir: Path
    manifest: Path
    project: str
    workers: int
    verbose: bool = False
    ws_port: int = 8765
    bridges: int = 1
    mqtt_autosave_changes: int = 10


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answers; the platform's readiness is reported separately
    except OSError:
        return False


def _tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


INDEX_CONFIG = "infra/firestore.indexes.json"  # relative to the manifest's folder


def _snapshot(process: subprocess.Popen[bytes]) -> None:
    """Ask Mosquitto to write its snapshot now (SIGUSR1): besides its snapshot after every
    few changes (`--mqtt-autosave-changes`), at most half a second of acknowledged messages
    is only in its memory."""
    process.send_signal(signal.SIGUSR1)


def _write_json(path: Path, data: dict[str, object]) -> None:
    write_private(path, json.dumps(data, indent=2) + "\n")


def function_environment(manifest: Manifest) -> dict[str, str]:
    """Provider and function environments merged; the host runs every function in one process."""
    merged = dict(manifest.environment)
    owners = dict.fromkeys(merged, "provider")
    for fn in manifest.functions.values():
        for name, value in fn.environment.items():
            if name in merged and merged[name] != value and owners[name] != "provider":
                raise ManifestError(
                    f"functions {owners[name]} and {fn.name} set {name} differently; the emulator "
                    "runs all functions in one host, so give them distinct variable names"
                )
            merged[name] = value
            owners[name] = fn.name
    return merged


class Platform:
    """Resolves ports, prepares data, and starts the components under a Supervisor."""

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self.manifest = load(config.manifest)
        self.env = function_environment(self.manifest)
        host = config.host
        self.port = check_port("functions", host, config.port)
        self.firestore = f"{host}:{check_port('firestore', host, config.firestore_port)}"
        self.pubsub = f"{host}:{check_port('pubsub', host, config.pubsub_port)}"
        self.base_url = f"http://{host}:{self.port}"
        self.run_dir = config.data_dir / "run"
        self.endpoints_file = config.data_dir / "endpoints.json"
        self.ready_file = self.run_dir / "ready"
        self.push_token = secrets.token_urlsafe(24)
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        make_private(config.data_dir)  # keys, databases, accounts: this user's only
        self.supervisor = Supervisor(config.data_dir / "logs", verbose=config.verbose)
        self.broker: Broker | None = None
        self.broker_problem = ""
        try:
            self.broker = prepare_broker(
                config.data_dir,
                host,
                check_port("mqtt", host, config.mqtt_port),
                check_port("mqtt-ws", host, config.mqtt_ws_port),
                bridges=config.bridges,
                workers=config.workers,
                autosave_changes=config.mqtt_autosave_changes,
                max_payload=settings().max_body_bytes,
            )
        except MosquittoMissing as exc:
            self.broker_problem = str(exc)
        self.ws_port = check_port("websocket", host, config.ws_port)

    def _grpc_service(
        self, name: str, address: str, env: dict[str, str] | None = None
    ) -> Component:
        port_file = self.run_dir / f"{name}.port"
        host, port = address.rsplit(":", 1)
        return Component(
            name,
            [sys.executable, "-m", f"emulator.{name}", "--host", host, "--port", port,
             "--data-dir", str(self.config.data_dir), "--port-file", str(port_file)],
            env=env or {},
            before_start=lambda: port_file.unlink(missing_ok=True),
            ready=port_file.exists,
        )  # fmt: skip

    def components(self) -> list[Component]:
        # the store indexes what production indexes: the project's single-field exemptions
        indexes = self.manifest.root / INDEX_CONFIG
        env = {"FIRESTORE_INDEXES": str(indexes)} if indexes.is_file() else {}
        parts = [self._grpc_service("firestore", self.firestore, env)]
        parts.append(self._grpc_service("pubsub", self.pubsub))
        if self.broker is not None:
            parts.append(
                Component("mqtt", self.broker.argv, ready=self.broker.ready,
                          after_start=self.broker.configure, tick=_snapshot)
            )  # fmt: skip
        parts.append(
            Component(
                "functions",
                [sys.executable, "-m", "emulator.host", "--host", self.config.host,
                 "--port", str(self.port), "--workers", str(self.config.workers),
                 "--manifest", str(self.config.manifest)],
                env={
                    **self.env,
                    "STRATUS_MANIFEST": str(self.config.manifest),
                    "STRATUS_PUSH_TOKEN": self.push_token,
                    "STRATUS_READY_FILE": str(self.ready_file),
                    "STRATUS_DATA_DIR": str(self.config.data_dir),
                    # webhooks and remote models may be local servers here (shared/egress.py)
                    "STRATUS_ALLOW_PRIVATE_TARGETS": os.environ.get(
                        "STRATUS_ALLOW_PRIVATE_TARGETS", "1"
                    ),
                    **self._worker_accounts(),
                },
                ready=lambda: _http_answers(f"{self.base_url}/healthz"),
                tier=1,
            )
        )  # fmt: skip
        return parts

    def _worker_accounts(self) -> dict[str, str]:
        """How the host's workers claim MQTT logins of their own (emulator/host/accounts.py)."""
        if self.broker is None or self.broker.home is None:
            return {}
        return {
            "STRATUS_MQTT_ACCOUNTS_FILE": str(self.broker.home / "accounts.json"),
            "STRATUS_MQTT_WORKERS": str(self.config.workers),
            "STRATUS_MQTT_LOCK_DIR": str(self.run_dir),
        }

    def _verifying_env(self) -> dict[str, str]:
        """The functions' variables without the private key: the gateways and the scheduler
        sign no token (the WebSocket gateway verifies with the public keys)."""
        secret = {"STRATUS_JWT_PRIVATE_KEY", "STRATUS_JWT_PRIVATE_KEY_FILE"}
        return {name: value for name, value in self.env.items() if name not in secret}

    def gateways(self) -> list[Component]:
        """Connection holders, started once the bus has its topics: the WebSocket ingest and,
        when the broker runs, the MQTT bridges (each resumes its own session by its id)."""
        host = self.config.host
        parts = [
            Component(
                "websocket",
                [sys.executable, "-m", "gateways.websocket", "--host", host,
                 "--port", str(self.ws_port)],
                env=self._verifying_env(),
                ready=lambda: _tcp_answers(host, self.ws_port),
                tier=2,
            )
        ]  # fmt: skip
        if self.broker is None:
            return parts
        for n in range(1, self.config.bridges + 1):
            ready_file = self.run_dir / f"bridge-{n}.ready"
            parts.append(
                Component(
                    f"bridge-{n}",
                    [sys.executable, "-m", "gateways.bridge"],
                    env={
                        **self._verifying_env(),
                        **self.broker.bridge_env(n),
                        "STRATUS_BRIDGE_ID": f"emulator-{n}",
                        "STRATUS_BRIDGE_READY_FILE": str(ready_file),
                        # within the emulator's stop budget; a late stop keeps the session
                        "STRATUS_BRIDGE_STOP_TIMEOUT": "2",
                        # each bridge comes back with the emulator: its session (and the
                        # devices' messages queued in it meanwhile) waits for it
                        "STRATUS_BRIDGE_KEEP_SESSION": "1",
                    },
                    before_start=lambda f=ready_file: f.unlink(missing_ok=True),  # type: ignore[misc]
                    ready=ready_file.exists,
                    tier=2,
                )
            )
        return parts

    def scheduler(self) -> Component:
        """The clock of the manifest's `schedule` events (emulator/scheduler.py), started with
        the gateways once the bus has the tick topics."""
        ready_file = self.run_dir / "scheduler.ready"
        return Component(
            "scheduler",
            [sys.executable, "-m", "emulator.scheduler", "--manifest", str(self.config.manifest),
             "--project", self.config.project, "--ready-file", str(ready_file)],
            env=self._verifying_env(),
            before_start=lambda: ready_file.unlink(missing_ok=True),
            ready=ready_file.exists,
            tier=2,
        )  # fmt: skip

    def start(self) -> None:
        """Start every component in order, create the bus' topics and subscriptions, mark ready."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for stale in (self.endpoints_file, self.ready_file):
            stale.unlink(missing_ok=True)
        os.environ.update(
            FIRESTORE_EMULATOR_HOST=self.firestore,
            PUBSUB_EMULATOR_HOST=self.pubsub,
            STRATUS_PROJECT=self.config.project,
            GOOGLE_CLOUD_PROJECT=self.config.project,
        )
        self.env.update(bootstrap.prepare(self.config.data_dir))
        if self.broker is not None:
            self.env.update(self.broker.env())
        else:
            print(f"warning: {self.broker_problem}", file=sys.stderr, flush=True)
        for component in self.components():
            self.supervisor.start(component)
        self._setup()
        for component in self.gateways():
            self.supervisor.start(component)
        if self.manifest.schedules:
            self.supervisor.start(self.scheduler())
        _write_json(self.endpoints_file, self.endpoints())
        self.ready_file.touch()

    def _setup(self) -> None:
        """Seed the store and create the bus' topics and subscriptions in a child process
        (`emulator.setup`): this process never loads gRPC, so forking children stays safe."""
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator.setup", "--data-dir", str(self.config.data_dir),
             "--manifest", str(self.config.manifest), "--project", self.config.project,
             "--base-url", self.base_url],
            env={**os.environ, **self.env, **self._setup_login(),
                 "STRATUS_PUSH_TOKEN": self.push_token},
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        _, errors = process.communicate()
        if self.supervisor.stopping:
            raise StartupError("interrupted while setting up the store and the bus")
        if process.returncode != 0:
            text = errors.decode(errors="replace").strip()
            raise StartupError(f"setting up the store and the bus failed:\n{text}")

    def _setup_login(self) -> dict[str, str]:
        """The broker's root admin login, for the setup step's device-login update only."""
        if self.broker is None:
            return {}
        return {
            "STRATUS_MQTT_ADMIN_USERNAME": "stratus-admin",
            "STRATUS_MQTT_ADMIN_PASSWORD": self.broker.accounts["stratus-admin"],
        }

    def endpoints(self) -> dict[str, object]:
        broker = self.broker
        return {
            "base_url": self.base_url,
            "firestore": self.firestore,
            "pubsub": self.pubsub,
            "mqtt": f"{broker.host}:{broker.port}" if broker else None,
            "mqtt_ws": f"ws://{broker.host}:{broker.ws_port}" if broker else None,
            "websocket": f"ws://{self.config.host}:{self.ws_port}",
            "project": self.config.project,
            "data_dir": str(self.config.data_dir),
            "pid": os.getpid(),
        }

    def summary(self) -> str:
        broker = self.broker
        mqtt = f"{broker.host}:{broker.port}  (ws {broker.ws_port})" if broker else "off"
        return (
            f"  functions   {self.base_url}\n"
            f"  firestore   {self.firestore}   (FIRESTORE_EMULATOR_HOST)\n"
            f"  pubsub      {self.pubsub}   (PUBSUB_EMULATOR_HOST)\n"
            f"  mqtt        {mqtt}\n"
            f"  websocket   ws://{self.config.host}:{self.ws_port}\n"
            f"  project     {self.config.project}\n"
            f"  endpoints   {self.endpoints_file}\n"
            f"  logs        {self.supervisor.log_dir}\n"
            f"Stratus is ready: {self.base_url}/healthz  (Ctrl-C to stop)"
        )

    def stop(self) -> None:
        self.supervisor.stop()
        self.endpoints_file.unlink(missing_ok=True)
        self.ready_file.unlink(missing_ok=True)
