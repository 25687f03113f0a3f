"""The WebSocket gateway's port: authenticate the upgrade request, then submit each message."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from shared.errors import StratusError

__all__ = ["Device", "Ingest", "ack", "refusal"]


@dataclass(frozen=True, slots=True)
class Device:
    """The authenticated device of a connection."""

    id: str
    org: str


class Ingest(Protocol):
    """Validation and publishing, shared with the HTTP ingest function."""

    def authenticate(self, authorization: str | None) -> Device:
        """The device of an `authorization: Bearer <device token>` header; raises
        AuthenticationError (401: missing or malformed) or PermissionDenied (403: invalid)."""
        ...

    def submit(self, device: Device, body: bytes, request_id: str) -> Future[int]:
        """Validate one message in an HTTP ingest format (raise a StratusError when it is not)
        and publish it; the future gives the number of readings once the bus has them."""
        ...


def ack(seq: int, accepted: int) -> dict[str, Any]:
    """What the socket says for an accepted message (`seq` counts messages from 1)."""
    return {"seq": seq, "status": 200, "accepted": accepted}


def refusal(seq: int, error: StratusError) -> dict[str, Any]:
    """What the socket says for a refused message; the connection stays open."""
    return {"seq": seq, "status": error.status, "error": error.to_dict()}
