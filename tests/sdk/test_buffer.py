"""The offline buffer on a real SQLite file: order, batches that keep their key and body across
a restart of the process, refusals set aside, counts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from stratus_sdk.buffer import OfflineBuffer


def reading(n: int) -> bytes:
    return json.dumps({"sensor_id": "s", "timestamp": n, "value": n}).encode()


def test_batches_drain_in_order(tmp_path: Path) -> None:
    buffer = OfflineBuffer(tmp_path / "b.db")
    assert buffer.next_batch(10) is None and buffer.pending() == 0
    buffer.add(reading(n) for n in range(25))
    seen = []
    while (batch := buffer.next_batch(10)) is not None:
        assert buffer.next_batch(10) == batch  # the same batch until it is accepted
        seen.extend(r["value"] for r in json.loads(batch.body))
        buffer.accepted(batch)
    assert seen == list(range(25))
    assert buffer.pending() == 0


def test_a_batch_keeps_its_key_and_body_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    buffer = OfflineBuffer(path)
    buffer.add(reading(n) for n in range(5))
    first = buffer.next_batch(3)
    assert first is not None and first.count == 3
    buffer.attempted(first)
    buffer.add([reading(5)])
    buffer.close()

    again = OfflineBuffer(path)  # the device process started again
    batch = again.next_batch(100)
    assert batch is not None
    assert (batch.key, batch.body, batch.attempts) == (first.key, first.body, 1)
    again.accepted(batch)
    rest = again.next_batch(100)
    assert rest is not None and [r["value"] for r in json.loads(rest.body)] == [3, 4, 5]
    assert rest.key != first.key
    assert again.pending() == 3


@pytest.mark.process
def test_readings_survive_a_killed_process(tmp_path: Path) -> None:
    """`add` returns only after the readings are committed: a process killed right after keeps
    them."""
    path = tmp_path / "b.db"
    script = textwrap.dedent(
        f"""
        import os, signal
        from stratus_sdk.buffer import OfflineBuffer
        buffer = OfflineBuffer({str(path)!r})
        buffer.add([b'{{"v": 1}}', b'{{"v": 2}}'])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], check=False)
    assert process.returncode == -9
    assert OfflineBuffer(path).pending() == 2


def test_refused_batches_are_set_aside(tmp_path: Path) -> None:
    buffer = OfflineBuffer(tmp_path / "b.db")
    buffer.add([reading(1), reading(2)])
    batch = buffer.next_batch(1)
    assert batch is not None
    buffer.reject(batch, 400, "readings[0].value: bad")
    (rejected,) = buffer.rejected()
    assert (rejected.key, rejected.status, rejected.count) == (batch.key, 400, 1)
    assert buffer.pending() == 1
    following = buffer.next_batch(5)
    assert following is not None and json.loads(following.body)[0]["value"] == 2
