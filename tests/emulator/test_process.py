"""Process helpers: ports, and the collector settings of the emulator's server processes."""

from __future__ import annotations

import gc
import socket

import pytest

from emulator.process import YOUNG_THRESHOLD, PortInUse, check_port, server_collector


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
