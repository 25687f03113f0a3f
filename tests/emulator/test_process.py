"""Process helpers: ports, private data directories, and the collector settings of the
emulator's server processes."""

from __future__ import annotations

import gc
import socket
from pathlib import Path

import pytest

from emulator.process import (
    YOUNG_THRESHOLD,
    PortInUse,
    check_port,
    make_private,
    server_collector,
)


def test_server_collector_freezes_start_up_objects_and_collects_young_ones_less_often() -> None:
    threshold = gc.get_threshold()
    try:
        server_collector()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *threshold[1:])
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_check_port_refuses_a_taken_port_and_picks_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=str(port)):
            check_port("functions", "127.0.0.1", port)
    assert check_port("functions", "127.0.0.1", 0) > 0


def test_make_private_takes_group_and_world_access_away_from_an_older_data_dir(
    tmp_path: Path,
) -> None:
    """A data directory made before the emulator set umask 077 had 0755 folders and 0644 keys,
    databases and endpoints.json: every start makes them 0700 / 0600, leaving symlinks' targets
    alone."""
    data, outside = tmp_path / "data", tmp_path / "outside.txt"
    (data / "keys").mkdir(parents=True)
    for path in (data / "keys" / "signing-key.pem", data / "endpoints.json", outside):
        path.write_text("x")
        path.chmod(0o644)
    (data / "run.sh").write_text("x")
    (data / "run.sh").chmod(0o755)
    for folder in (data, data / "keys"):
        folder.chmod(0o755)
    (data / "link").symlink_to(outside)
    make_private(data)
    modes = {
        str(p.relative_to(data)): oct(p.stat().st_mode & 0o777)
        for p in [data, *data.rglob("*")]
        if not p.is_symlink()
    }
    assert modes == {
        ".": "0o700",
        "keys": "0o700",
        "keys/signing-key.pem": "0o600",
        "endpoints.json": "0o600",
        "run.sh": "0o700",
    }
    assert outside.stat().st_mode & 0o777 == 0o644
