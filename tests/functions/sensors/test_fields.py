"""Sensor payload validation: mapping (object or JSON text), tree path, and named fields."""

from __future__ import annotations

from typing import Any

import pytest

from functions.sensors.service import _fields, parse_mapping, parse_path
from shared.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"type":"double"}', {"type": "double", "unit": None}),  # the reference script
        ({"type": "double"}, {"type": "double", "unit": None}),
        ({"type": "integer"}, {"type": "long", "unit": None}),
        ({"type": "LONG", "unit": "ms"}, {"type": "long", "unit": "ms"}),
        ({"type": "float", "unit": " Cel "}, {"type": "double", "unit": "Cel"}),
        ('{"type": "boolean"}', {"type": "boolean", "unit": None}),
        ({"type": "string"}, {"type": "string", "unit": None}),
        ({"type": "object", "unit": None}, {"type": "object", "unit": None}),
    ],
)
def test_mappings_are_read_and_made_canonical(raw: Any, expected: dict[str, Any]) -> None:
    assert parse_mapping(raw) == expected


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ("{type: double}", "mapping", "not valid JSON"),
        ('"double"', "mapping", "must be an object"),
        ([{"type": "double"}], "mapping", "must be an object"),
        ({}, "mapping.type", "required"),
        ({"type": 3}, "mapping.type", "required"),
        ({"type": "decimal"}, "mapping.type", "unknown sensor type 'decimal'"),
        ({"type": "double", "unit": ""}, "mapping.unit", "non-empty"),
        ({"type": "double", "unit": 5}, "mapping.unit", "non-empty"),
        ({"type": "double", "unit": "x" * 33}, "mapping.unit", "at most 32"),
        ({"type": "double", "scale": 2}, "mapping", "unknown field 'scale'"),
    ],
)
def test_bad_mappings_name_the_field(raw: Any, field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        parse_mapping(raw)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("/", ""),
        ("front/left", "front/left"),
        ("/front/left/", "front/left"),
        ("  engine ", "engine"),
        ("a b/c-d_e.f", "a b/c-d_e.f"),
    ],
)
def test_paths_are_normalised(raw: Any, expected: str) -> None:
    assert parse_path(raw) == expected


@pytest.mark.parametrize(
    "raw", ["front//left", "front/../x", "./x", "a/ b", 7, "x" * 65, "/".join(["abc"] * 70)]
)
def test_bad_paths_are_refused(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_path(raw)
    assert caught.value.field == "path"


def test_a_new_sensor_needs_name_and_mapping() -> None:
    fields = _fields({"name": " temp ", "mapping": '{"type":"double"}'}, partial=False)
    assert fields == {
        "name": "temp",
        "description": "",
        "mapping": {"type": "double", "unit": None},
        "path": "",
    }
    for body, field in (
        ({"mapping": {"type": "double"}}, "name"),
        ({"name": "t"}, "mapping"),
        ({"name": "t", "mapping": None}, "mapping"),
        ({"name": "a/b", "mapping": {"type": "double"}}, "name"),
        ({"name": "", "mapping": {"type": "double"}}, "name"),
        ({"name": "t", "mapping": {"type": "double"}, "colour": "red"}, "colour"),
        ({"name": "t", "mapping": {"type": "double"}, "description": 5}, "description"),
    ):
        with pytest.raises(ValidationError) as caught:
            _fields(body, partial=False)
        assert caught.value.field == field, body


def test_an_update_takes_only_what_is_given() -> None:
    assert _fields({"path": "rear"}, partial=True) == {"path": "rear"}
    assert _fields({"mapping": {"type": "long"}}, partial=True) == {
        "mapping": {"type": "long", "unit": None}
    }
    with pytest.raises(ValidationError):
        _fields({}, partial=True)
