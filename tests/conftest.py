"""Suite-wide fixtures: one running emulator per test session for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator import RunningEmulator, start_emulator


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The whole platform, started once per session with `python -m emulator` on free ports."""
    emulator = start_emulator(tmp_path_factory.mktemp("platform") / "data")
    try:
        yield emulator
    finally:
        if emulator.process and emulator.process.poll() is None:
            emulator.stop()
