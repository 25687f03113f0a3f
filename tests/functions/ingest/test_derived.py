"""A device cannot send readings to a derived sensor (a detector's score or verdict): ingest
refuses the body at the door with 403 naming the reading, by id and by SenML name, and
publishes nothing."""

from __future__ import annotations

import pytest

from shared.telemetry.ingest import SENML
from shared.telemetry.sensors import Sensor
from tests.functions.ingest.conftest import DEVICE, S1, Setup
from tests.functions.ingest.test_ingest import post, reading

SCORE = "9" * 20


@pytest.fixture
def derived(setup: Setup) -> Setup:
    setup.directory.sensors[DEVICE][SCORE] = Sensor(SCORE, "temperature.ab12cd34.score", "room",
                                                    derived=True)  # fmt: skip
    return setup


def test_a_reading_for_a_derived_sensor_is_403_and_nothing_is_published(derived: Setup) -> None:
    response = post(derived, [reading(S1), reading(SCORE)])
    assert response.status == 403
    error = response.json()["error"]
    assert error["field"] == "readings[1].sensor_id"
    assert (
        "derived sensor" in error["message"] and "only its detector writes it" in error["message"]
    )
    assert derived.drain() == []


@pytest.mark.parametrize("name", [SCORE, "room/temperature.ab12cd34.score"])
def test_a_senml_record_naming_a_derived_sensor_is_403(derived: Setup, name: str) -> None:
    body = [{"n": "temperature", "v": 1.0}, {"n": name, "v": 2.0}]
    response = post(derived, body, content_type=SENML)
    assert response.status == 403
    assert response.json()["error"]["field"] == "records[1].n"
    assert "derived sensor" in response.json()["error"]["message"]
    assert derived.drain() == []


def test_the_source_sensor_itself_is_still_accepted(derived: Setup) -> None:
    assert post(derived, [reading(S1)]).status == 200
    assert len(derived.drain()) == 1
