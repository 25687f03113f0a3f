"""Who may read a sensor (`shared.access.Access`), on the store port: users of the organisation,
consumers granted it, 404 for everything else; and the cached decisions (`cache_seconds`): an
allowed read is reused for that long, refusals never are, and a deletion or a withdrawn grant
stops readers once it runs out."""

from __future__ import annotations

import pytest

from shared.access import Access, VisibleSensor
from shared.auth import Principal
from shared.directory import consumer_path, new_id, sensor_path, sensor_ref
from shared.errors import NotFound
from shared.store import Store

TTL = 5.0


class Clock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def user(org: str) -> Principal:
    return Principal("user", new_id(), org, "member", 1)


def consumer(org: str, subject: str) -> Principal:
    return Principal("consumer", subject, org, None, 1)


def add_sensor(store: Store, org: str, kind: str = "double") -> tuple[str, str]:
    device, sensor = new_id(), new_id()
    store.set(sensor_path(org, device, sensor), {"mapping": {"type": kind}})
    return device, sensor


def grant(store: Store, org: str, subject: str, *refs: str) -> None:
    store.set(consumer_path(org, subject), {"sensors": list(refs)})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cached(store: Store, clock: Clock) -> Access:
    return Access(store, cache_seconds=TTL, clock=clock)


@pytest.mark.parametrize("ttl", [0.0, TTL])
def test_the_rules_with_and_without_the_cache(store: Store, org: str, ttl: float) -> None:
    access = Access(store, cache_seconds=ttl)
    device, sensor = add_sensor(store, org, "long")
    other_device, other = add_sensor(store, org)
    subject = new_id()
    grant(store, org, subject, sensor_ref(device, sensor))
    for _ in range(2):  # the second time from the cache when there is one
        assert access.sensor(user(org), device, sensor) == VisibleSensor(sensor, "long")
        assert access.sensor(consumer(org, subject), device, sensor).id == sensor
    refused = [
        (consumer(org, subject), other_device, other),  # not granted
        (consumer(org, new_id()), device, sensor),  # no such consumer
        (user(f"o{new_id()}"), device, sensor),  # another organisation
        (user(org), device, new_id()),  # unknown sensor
        (user(org), new_id(), sensor),  # on another device
        (user(org), device, "not-an-id"),
        (Principal("device", device, org, None, 1), device, sensor),  # devices read nothing
    ]
    for principal, on_device, which in refused:
        with pytest.raises(NotFound):
            access.sensor(principal, on_device, which)


def test_an_allowed_read_is_reused_until_the_bound(
    store: Store, org: str, cached: Access, clock: Clock
) -> None:
    device, sensor = add_sensor(store, org)
    reader = user(org)
    assert cached.sensor(reader, device, sensor).id == sensor
    store.delete(sensor_path(org, device, sensor))
    clock.now += TTL - 0.01
    assert cached.sensor(reader, device, sensor).id == sensor  # within the bound
    clock.now += 0.02
    with pytest.raises(NotFound):
        cached.sensor(reader, device, sensor)


def test_a_withdrawn_grant_stops_the_consumer_within_the_bound(
    store: Store, org: str, cached: Access, clock: Clock
) -> None:
    device, sensor = add_sensor(store, org)
    subject = new_id()
    grant(store, org, subject, sensor_ref(device, sensor))
    assert cached.sensor(consumer(org, subject), device, sensor).id == sensor
    grant(store, org, subject)  # withdrawn
    assert cached.sensor(consumer(org, subject), device, sensor).id == sensor
    clock.now += TTL
    with pytest.raises(NotFound):
        cached.sensor(consumer(org, subject), device, sensor)


def test_a_decision_is_the_callers_own(store: Store, org: str, cached: Access) -> None:
    """A consumer's cached grant says nothing for another consumer, nor for another
    organisation's callers asking for the same ids."""
    device, sensor = add_sensor(store, org)
    granted = new_id()
    grant(store, org, granted, sensor_ref(device, sensor))
    assert cached.sensor(consumer(org, granted), device, sensor).id == sensor
    assert cached.sensor(user(org), device, sensor).id == sensor
    with pytest.raises(NotFound):
        cached.sensor(consumer(org, new_id()), device, sensor)
    other_org = f"o{new_id()}"
    with pytest.raises(NotFound):
        cached.sensor(user(other_org), device, sensor)
    with pytest.raises(NotFound):
        cached.sensor(consumer(other_org, granted), device, sensor)


def test_refusals_are_never_cached(store: Store, org: str, cached: Access) -> None:
    device, sensor = new_id(), new_id()
    with pytest.raises(NotFound):
        cached.sensor(user(org), device, sensor)
    store.set(sensor_path(org, device, sensor), {"mapping": {"type": "boolean"}})
    assert cached.sensor(user(org), device, sensor) == VisibleSensor(sensor, "boolean")


def test_without_a_cache_a_deletion_counts_at_once(store: Store, org: str) -> None:
    access = Access(store)
    device, sensor = add_sensor(store, org)
    assert access.sensor(user(org), device, sensor).id == sensor
    store.delete(sensor_path(org, device, sensor))
    with pytest.raises(NotFound):
        access.sensor(user(org), device, sensor)
