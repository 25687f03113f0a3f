"""Cost projection: measured counts (requests, bus messages, store operations, CPU seconds) times
a dated, user-editable price table (`bench/prices.toml`) -> cost per million readings and per
1,000 API requests, next to the TUM study's figures for its HTTP gateway.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["STUDY_EURO_CENT_PER_1000", "Counts", "cpu_seconds", "load_prices", "project"]

PRICES = Path(__file__).with_name("prices.toml")
TIB = 2**40

# TUM iotplatform study, HTTP gateway, euro-cent per 1,000 requests (on a cloud, not one machine).
STUDY_EURO_CENT_PER_1000 = {"GKE": 0.12, "OpenWhisk": 0.26, "Cloud Run": 0.071}


@dataclass
class Counts:
    """What a run used (`memory_gib_seconds` None: derived from CPU seconds and instance size)."""

    requests: int = 0
    push_requests: int = 0  # bus pushes to the functions (billed as Cloud Run requests too)
    readings: int = 0
    bus_messages: int = 0  # publishes plus deliveries
    bus_message_bytes: int = 0  # average size of one message
    store_reads: int = 0
    store_writes: int = 0
    store_deletes: int = 0
    cpu_seconds: float = 0.0
    memory_gib_seconds: float | None = None


def load_prices(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    with open(path or PRICES, "rb") as file:
        return tomllib.load(file)


def project(counts: Counts, prices: dict[str, Any]) -> dict[str, Any]:
    """Itemised cost in the table's currency, the total, and the two unit figures."""
    run, bus, store = prices["cloud_run"], prices["pubsub"], prices["firestore"]
    memory = counts.memory_gib_seconds
    if memory is None:
        instance = run["instance"]
        memory = counts.cpu_seconds / instance["vcpu"] * instance["memory_gib"]
    billed_bytes = counts.bus_messages * max(counts.bus_message_bytes, bus["min_bytes_per_message"])
    items = {
        "cloud_run_cpu": counts.cpu_seconds * run["vcpu_second"],
        "cloud_run_memory": memory * run["gib_second"],
        "cloud_run_requests": (counts.requests + counts.push_requests)
        * run["per_million_requests"]
        / 1e6,
        "pubsub": billed_bytes / TIB * bus["per_tib"],
        "firestore_reads": counts.store_reads * store["per_100k_reads"] / 1e5,
        "firestore_writes": counts.store_writes * store["per_100k_writes"] / 1e5,
        "firestore_deletes": counts.store_deletes * store["per_100k_deletes"] / 1e5,
    }
    total = sum(items.values())
    per_1000 = total / counts.requests * 1000 if counts.requests else None
    rate = prices.get("usd_to_eur", 1.0)
    return {
        "currency": prices.get("currency", "USD"),
        "prices_checked": prices.get("checked"),
        "counts": asdict(counts) | {"memory_gib_seconds": memory},
        "items": items,
        "total": total,
        "per_million_readings": (total / counts.readings * 1e6 if counts.readings else None),
        "per_1000_requests": per_1000,
        "euro_cent_per_1000_requests": (None if per_1000 is None else per_1000 * rate * 100),
        "study_euro_cent_per_1000_requests": STUDY_EURO_CENT_PER_1000,
    }


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds so far of these processes and all their descendants (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in {p for root in pids for p in _descendants(root)}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick
