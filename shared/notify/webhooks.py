"""Signed webhooks: HMAC-SHA256 of `<timestamp>.<body>` with the organisation's secret, sent as
`x-stratus-signature: t=<unix seconds>,v1=<hex>`; a receiver recomputes it and refuses a
timestamp older than its tolerance (replay)."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_S", "sign", "verify"]

SIGNATURE_HEADER = "x-stratus-signature"
TOLERANCE_S = 300


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(body: bytes, header: str, secret: str, now: int, tolerance: int = TOLERANCE_S) -> bool:
    """Whether `header` signs `body` with `secret`, at most `tolerance` seconds from `now`."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or "v1" not in fields:
        return False
    timestamp = int(fields["t"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields["v1"])
