"""`python -m bench emulators`: a smoke run of a few seconds per emulator (figures never
asserted: only that every row was measured and what survives kill -9 was counted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.google_emulators import missing_reason

pytestmark = [pytest.mark.load, pytest.mark.process]

ROOT = Path(__file__).resolve().parents[2]
ROWS = {
    "firestore": {"start-up s", "idle RSS MiB", "commits/s", "queries/s", "peak RSS MiB"},
    "pubsub": {"start-up s", "idle RSS MiB", "published/s", "pulled+acked/s", "streamed/s"},
}


def _run(tmp_path: Path, *flags: str) -> dict:
    out, markdown = tmp_path / "emulators.json", tmp_path / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\n## How to reproduce\n\nrun it\n")
    command = [sys.executable, "-m", "bench", "emulators", "--scale", "0.01", "--starts", "1"]
    done = subprocess.run(
        [*command, *flags, "--out", str(out), "--markdown", str(markdown)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = markdown.read_text()
    assert "## Emulators side by side" in document
    assert document.index("## Emulators side by side") < document.index("## How to reproduce")
    return json.loads(out.read_text())


def test_ours_both_services(tmp_path):
    result = _run(tmp_path, "--emulator", "ours")
    for service, rows in ROWS.items():
        figures = result[service]["ours"]
        assert rows <= figures.keys()
        assert all(figures[row] > 0 for row in rows)
        assert figures["survive kill -9"] == 100  # durability is a property, not a rate


def test_google_pubsub(tmp_path):
    reason = missing_reason("pubsub")
    if reason is not None:
        pytest.skip(f"Google's Pub/Sub emulator cannot run here: {reason}")
    result = _run(tmp_path, "--emulator", "google", "--service", "pubsub")
    figures = result["pubsub"]["google"]
    assert ROWS["pubsub"] <= figures.keys()
    assert 0 <= figures["survive kill -9"] <= 100
