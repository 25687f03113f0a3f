"""The door of telemetry (`shared.telemetry.ingest.read_body`): formats, media types, and every
problem of a refused body named."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shared.errors import BadRequest, UnsupportedMediaType, ValidationError
from shared.telemetry import InvalidReadings
from shared.telemetry.ingest import JSON, SENML, Body, read_body

NOW = 1_790_000_000_000_000_000
S1, S2 = "a" * 20, "b" * 20


def _read(body: Any, media_type: str = JSON) -> Body:
    return read_body(orjson.dumps(body), media_type, NOW)


@pytest.mark.parametrize(
    ("body", "media_type", "expected"),
    [
        # the reference gateway's own example: a string value, seconds
        (
            {"sensor_id": S1, "timestamp": 1526717967, "value": "91827364"},
            JSON,
            Body("reference", 1, (S1,)),
        ),
        (
            [
                {"sensor_id": S1, "timestamp": 1526717967000, "value": 1},
                {"sensor_id": S2, "timestamp": "1526717967", "value": True},
            ],
            JSON,
            Body("reference", 2, (S1, S2)),
        ),
        # no content type (a client that sends none): recognised by shape
        ({"sensor_id": S1, "timestamp": 1, "value": 2}, "", Body("reference", 1, (S1,))),
        # SenML, declared
        (
            [{"bn": "car/", "n": "speed", "v": 3}, {"n": "gear", "v": 2}],
            SENML,
            Body("senml", 2, names=((0, "car/speed"), (1, "car/gear"))),
        ),
        # SenML sent as application/json: recognised by its fields
        (
            [{"n": "temp", "u": "Cel", "v": 21.5, "t": -5}],
            JSON,
            Body("senml", 1, names=((0, "temp"),)),
        ),
    ],
)
def test_accepted_bodies(body: Any, media_type: str, expected: Body) -> None:
    assert _read(body, media_type) == expected


@pytest.mark.parametrize(
    "media_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/senml+cbor", "text/csv"],
)
def test_other_content_types_are_415(media_type: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=media_type.replace("+", r"\+")):
        _read({"sensor_id": S1, "timestamp": 1, "value": 2}, media_type)


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_empty_body_is_400(body: bytes) -> None:
    with pytest.raises(BadRequest, match="body is empty"):
        read_body(body, JSON, NOW)


def test_broken_json_is_400() -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        read_body(b'{"sensor_id": "x", ', JSON, NOW)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            [{"sensor_id": S1, "timestamp": 1, "value": 2}] * 3
            + [{"sensor_id": S1, "timestamp": "soon", "value": 2}],
            "readings[3].timestamp",
            "readings[3].timestamp",
        ),
        ({"sensor_id": S1, "timestamp": 1}, "readings[0].value", "is missing"),
        ({"sensor_id": "", "timestamp": 1, "value": 1}, "readings[0].sensor_id", "non-empty"),
        ({"sensor_id": S1, "timestamp": 1, "value": None}, "readings[0].value", "null"),
        (
            {"sensor_id": S1, "timestamp": 1, "value": 1, "unit": "C"},
            "readings[0].unit",
            "unknown field",
        ),
        ([], "readings", "empty array"),
        ("21.5", "readings", "not str"),
        ({"n": "temp", "v": 1}, "readings[0].sensor_id", "is missing"),  # SenML must be an array
    ],
)
def test_invalid_reference_bodies_name_the_field(body: Any, field: str, message: str) -> None:
    with pytest.raises(InvalidReadings) as caught:
        _read(body)
    assert caught.value.field == field
    assert message in caught.value.message
    assert caught.value.status == 400


def test_every_problem_is_listed_and_nothing_is_partially_accepted() -> None:
    body = [
        {"sensor_id": S1, "timestamp": 1, "value": 1},
        {"sensor_id": S1, "timestamp": -1, "value": 1},
        {"sensor_id": S1, "value": 1},
    ]
    with pytest.raises(InvalidReadings) as caught:
        _read(body)
    fields = [problem["field"] for problem in caught.value.to_dict()["details"]["problems"]]
    assert fields == ["readings[1].timestamp", "readings[2].timestamp"]


@pytest.mark.parametrize(
    ("pack", "field"),
    [
        ([{"n": "temp", "v": 1, "vs": "x"}], "records[0].vs"),
        ([{"n": "temp"}], "records[0]"),
        ([{"n": "-temp", "v": 1}], "records[0].n"),
        ([{"n": "temp", "v": 1}, {"n": "temp", "v": "one"}], "records[1].v"),
        ({"n": "temp", "v": 1}, "records"),
    ],
)
def test_invalid_senml_names_the_record(pack: Any, field: str) -> None:
    with pytest.raises(InvalidReadings) as caught:
        _read(pack, SENML)
    assert caught.value.field == field


def test_a_senml_pack_without_a_reading_is_400() -> None:
    with pytest.raises(ValidationError, match="no reading") as caught:
        _read([{"bn": "thermostat/"}], SENML)
    assert caught.value.field == "records"
