"""The emulator's `<data-dir>/endpoints.json` as the harness reads it: the broker, the emulator's
process and the store and bus addresses, believed only when it describes the target."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench.stratus_api import SetupError

__all__ = ["broker_address", "emulator_endpoints"]


def _read(data_dir: str | os.PathLike[str]) -> tuple[Path, dict[str, Any] | None]:
    path = Path(data_dir) / "endpoints.json"
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return path, None
    return path, found if isinstance(found, dict) else None


def _describes(found: dict[str, Any], target: str) -> bool:
    return str(found.get("base_url", "")).rstrip("/") == target.rstrip("/")


def emulator_endpoints(data_dir: str | os.PathLike[str], target: str) -> dict[str, Any]:
    """The endpoints of the emulator in `data_dir` when it serves `target`, else {}."""
    _, found = _read(data_dir)
    return found if found is not None and _describes(found, target) else {}


def broker_address(explicit: str | None, data_dir: str | os.PathLike[str], target: str) -> str:
    """The broker to publish to: `explicit` (--mqtt / STRATUS_BENCH_MQTT), else the `mqtt` entry
    of the emulator's `<data-dir>/endpoints.json` when that emulator is the target."""
    if explicit:
        return explicit
    path, found = _read(data_dir)
    if found and _describes(found, target):
        if found.get("mqtt"):
            return str(found["mqtt"])
        raise SetupError(f"{path}: the emulator runs without MQTT (no mosquitto)")
    where = f"{path} does not describe {target}" if found else f"no {path}"
    raise SetupError(
        f"MQTT scenarios need the broker: --mqtt HOST:PORT or STRATUS_BENCH_MQTT ({where})"
    )
