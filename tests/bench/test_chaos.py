"""`python -m bench chaos` in short: HTTP and MQTT load while the broker, a bridge, a host worker
and the whole emulator are killed with SIGKILL in turn; every acknowledged HTTP reading is stored,
and MQTT loses at most the broker's documented window (docs/ARCHITECTURE.md, "Broker (MQTT)").
Figures, not rates: the full runs are in BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import VICTIMS, measure

pytestmark = [pytest.mark.load, pytest.mark.process, pytest.mark.timeout(600)]


def test_a_short_chaos_run_loses_no_acknowledged_reading_but_the_brokers_window(
    tmp_path: Path,
) -> None:
    result = measure(tmp_path / "data", minutes=1.2, chaos=True, kill_every=12)
    assert [kill["victim"] for kill in result["kills"][:4]] == list(VICTIMS)
    assert result["acknowledged"] > 0
    assert result["lost_by_transport"]["http"] == 0
    # Mosquitto acknowledges before it writes: a kill -9 may take what it acknowledged since
    # its last snapshot (at most half a second ago, a few messages at this rate)
    assert result["lost_by_transport"]["mqtt"] <= 25
    assert result["duplicated_rows"] == 0
    assert set(result["memory_mb"]) >= {"broker", "bridge", "host worker", "firestore", "pubsub"}
