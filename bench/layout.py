"""What an ingest run left in the store, read from the emulator's Firestore after the load: chunk
documents (the store writes the cost model prices), readings rows (a reading stored twice is
a row too many: duplicates), and the raw bus messages the chunks name (coalescing's effect)."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import orjson

__all__ = ["StoreFigures", "org_of", "store_figures"]

StoreFigures = dict[str, int]


def org_of(token: str) -> str:
    """The organisation claim of one of our tokens (read, not verified: the platform did)."""
    payload = token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["org"])


def _count(address: str, project: str, paths: list[str]) -> StoreFigures:
    os.environ["FIRESTORE_EMULATOR_HOST"] = address
    from google.cloud import firestore  # only for runs against the emulator

    client = firestore.Client(project=project)
    documents = rows = 0
    unique: set[tuple[str, int]] = set()
    messages: set[str] = set()
    try:
        for path in paths:
            for snapshot in client.collection(path).stream():
                data = snapshot.to_dict() or {}
                documents += 1
                pairs = orjson.loads(data.get("readings", b"[]"))
                rows += len(pairs)
                unique.update((path, int(pair[0])) for pair in pairs)
                messages.add(str(data.get("message", "")))
    finally:
        client.close()  # type: ignore[no-untyped-call]
    return {
        "documents": documents,
        "rows": rows,
        "duplicated": rows - len(unique),
        "messages": len(messages),
    }


async def store_figures(
    address: str, project: str, org: str, devices: list[dict[str, Any]]
) -> StoreFigures:
    """Chunk documents, rows, duplicated rows and distinct messages of the devices' sensors."""
    paths = [
        f"orgs/{org}/devices/{device['id']}/sensors/{sensor}/chunks"
        for device in devices
        for sensor in device["sensors"]
    ]
    return await asyncio.to_thread(_count, address, project, paths)
