"""The cost model with hand-computed figures, and CPU accounting from /proc."""

import os
import subprocess
import sys

import pytest

from bench.cost import STUDY_EURO_CENT_PER_1000, Counts, cpu_seconds, load_prices, project


def test_price_table_is_dated_and_complete():
    prices = load_prices()
    assert prices["checked"] and prices["currency"] == "USD"
    assert prices["cloud_run"]["vcpu_second"] > 0
    assert prices["pubsub"]["min_bytes_per_message"] == 1000
    assert prices["firestore"]["per_100k_writes"] > 0


def test_hand_computed_projection():
    counts = Counts(
        requests=1_000_000, readings=1_000_000, bus_messages=4_000_000, bus_message_bytes=200,
        store_writes=1_000_000, cpu_seconds=1_000,
    )  # fmt: skip
    prices = {
        "checked": "test", "currency": "USD", "usd_to_eur": 0.5,
        "cloud_run": {"vcpu_second": 0.000024, "gib_second": 0.0000025,
                      "per_million_requests": 0.40, "instance": {"vcpu": 1, "memory_gib": 0.5}},
        "pubsub": {"per_tib": 40.0, "min_bytes_per_message": 1000},
        "firestore": {"per_100k_reads": 0.03, "per_100k_writes": 0.09, "per_100k_deletes": 0.01},
    }  # fmt: skip
    cost = project(counts, prices)
    items = cost["items"]
    assert items["cloud_run_cpu"] == pytest.approx(0.024)  # 1000 s * 0.000024
    assert items["cloud_run_memory"] == pytest.approx(0.00125)  # 500 GiB-s * 0.0000025
    assert items["cloud_run_requests"] == pytest.approx(0.40)
    # 4e6 messages billed at the 1000-byte minimum = 4e9 bytes = 0.0036380 TiB * $40
    assert items["pubsub"] == pytest.approx(0.1455192, rel=1e-6)
    assert items["firestore_writes"] == pytest.approx(0.90)
    assert items["firestore_reads"] == 0
    assert cost["total"] == pytest.approx(1.4707692, rel=1e-6)
    assert cost["per_million_readings"] == pytest.approx(1.470769, rel=1e-6)
    assert cost["per_1000_requests"] == pytest.approx(0.0014707692, rel=1e-6)
    assert cost["euro_cent_per_1000_requests"] == pytest.approx(0.0735385, rel=1e-5)
    assert cost["study_euro_cent_per_1000_requests"] == STUDY_EURO_CENT_PER_1000


def test_messages_larger_than_the_minimum_are_billed_by_size():
    prices = load_prices()
    small = project(Counts(bus_messages=10, bus_message_bytes=10), prices)["items"]["pubsub"]
    large = project(Counts(bus_messages=10, bus_message_bytes=5000), prices)["items"]["pubsub"]
    assert large == pytest.approx(small * 5)


def test_no_requests_no_unit_figures():
    cost = project(Counts(), load_prices())
    assert cost["total"] == 0
    assert cost["per_1000_requests"] is None and cost["per_million_readings"] is None


def test_cpu_seconds_counts_a_process_tree():
    burn = "sum(range(20_000_000)); print(1, flush=True); input()"
    parent = (
        "import subprocess, sys; "
        f"p = subprocess.Popen([sys.executable, '-c', {burn!r}], stdin=subprocess.PIPE); "
        "input(); p.communicate(b'\\n')"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", parent], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        child.stdout.readline()  # the grandchild has burnt its CPU and waits
        assert cpu_seconds([child.pid]) > 0.1
    finally:
        child.communicate(b"\n", timeout=60)
    assert cpu_seconds([os.getpid()]) > 0
