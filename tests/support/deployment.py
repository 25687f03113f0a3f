"""What the deploy validation tests share: a deployment's data on the session's emulators (its
own project, first organisation, signing key), the environment the plan gives each function, and
one host routing every HTTP route to the server of its function (what the API gateways do)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.config import PUBLIC_KEYS_SECRET, SIGNING_KEY_SECRET, local_environment
from infra.keys import jwks_of
from shared.errors import StratusError
from shared.manifest import FunctionSpec, Manifest
from shared.router import Router
from tests.support.http_server import serving

__all__ = ["Deployment", "function_env", "routing_host"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Deployment:
    """A deployment's data on the emulators: a project of its own with its first organisation,
    a signing key (PEM) and its public keys (JWKS), as the plan makes them."""

    project: str
    firestore: str
    pubsub: str
    admin_password: str
    private_pem: str
    jwks: str

    @classmethod
    def create(cls, firestore: str, pubsub: str, project: str) -> Deployment:
        from emulator.bootstrap import first_organisation
        from shared.store.firestore import FirestoreStore

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        password = secrets.token_urlsafe(16)
        previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
        os.environ["FIRESTORE_EMULATOR_HOST"] = firestore
        try:
            first_organisation(FirestoreStore(project), password, out=_Quiet())
        finally:
            if previous is None:
                os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
            else:
                os.environ["FIRESTORE_EMULATOR_HOST"] = previous
        return cls(project, firestore, pubsub, password, pem, jwks_of(pem.encode()))

    def emulator_env(self) -> dict[str, str]:
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore,
            "PUBSUB_EMULATOR_HOST": self.pubsub,
            "GOOGLE_CLOUD_PROJECT": self.project,
            "STRATUS_PROJECT": self.project,
        }


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def function_env(manifest: Manifest, spec: FunctionSpec, deployment: Deployment) -> dict[str, str]:
    """What the plan gives `spec`: its variables and exactly the secrets it may read (the
    private key only to the functions that sign), pointed at the emulators, logging at INFO
    with access logs on."""
    values = {PUBLIC_KEYS_SECRET: deployment.jwks, SIGNING_KEY_SECRET: deployment.private_pem}
    env = local_environment(manifest, spec, values) | deployment.emulator_env()
    return env | {"STRATUS_LOG_LEVEL": "INFO", "STRATUS_ACCESS_LOG": "1"}


def _router(manifest: Manifest, targets: Mapping[str, str]) -> tuple[Router, dict[Any, str]]:
    router = Router()
    owners: dict[Any, str] = {}
    for route, spec in manifest.routes():
        if spec.name in targets:
            router.add(route.method, route.path, lambda request: None)  # type: ignore[arg-type,return-value]
            owners[id(list(router)[-1])] = targets[spec.name]
    return router, owners


@contextmanager
def routing_host(manifest: Manifest, targets: Mapping[str, str]) -> Iterator[str]:
    """One base URL for every HTTP route: each request goes, unchanged, to the URL of the
    function that owns its route (`targets`: function -> base URL)."""
    router, owners = _router(manifest, targets)
    client = httpx.Client(timeout=60)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            path = self.path.partition("?")[0]
            try:
                route, _ = router.match(self.command, path)
            except StratusError as error:
                self._answer(error.status, {}, b'{"error": "no route"}')
                return
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host"}}
            answer = client.request(self.command, owners[id(route)] + self.path,
                                    headers=headers, content=body)  # fmt: skip
            self._answer(answer.status_code, dict(answer.headers), answer.content)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in {"content-length", "transfer-encoding", "connection",
                                        "content-encoding"}:  # fmt: skip
                    self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    try:
        with serving(Handler) as url:
            yield url
    finally:
        client.close()
