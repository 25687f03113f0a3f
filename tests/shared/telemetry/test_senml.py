"""SenML resolution (RFC 8428 section 4.6); every section 5 example resolved value for value."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shared.errors import BadRequest
from shared.telemetry.errors import InvalidReadings
from shared.telemetry.senml import Record, is_senml, resolve, resolve_bytes

NOW = 1_790_000_000_123_456_789  # the time of reception, ns
S = 10**9
DEV = "urn:dev:ow:10e2073a01080063"


def _resolved(pack: Any) -> list[tuple[str, int, Any, str | None, str]]:
    return [(r.name, r.time, r.value, r.unit, r.kind) for r in resolve(pack, NOW)]


# RFC 8428 5.1.1, single datapoint: no time = "now".
def test_5_1_1_single_datapoint() -> None:
    pack = orjson.loads(b'[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]')
    assert _resolved(pack) == [(DEV, NOW, 23.1, "Cel", "number")]


# RFC 8428 5.1.2, multiple datapoints: first "now", then at a base time with relative offsets.
def test_5_1_2_multiple_datapoints_now() -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "voltage", "u": "V", "v": 120.1},
        {"n": "current", "u": "A", "v": 1.2},
    ]
    assert _resolved(pack) == [
        (DEV + ":voltage", NOW, 120.1, "V", "number"),
        (DEV + ":current", NOW, 1.2, "A", "number"),
    ]


def test_5_1_2_multiple_datapoints_with_base_time() -> None:
    pack = orjson.loads(
        b"""[
        {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
         "bu":"A","bver":5,
         "n":"voltage","u":"V","v":120.1},
        {"n":"current","t":-5,"v":1.2},
        {"n":"current","t":-4,"v":1.3},
        {"n":"current","t":-3,"v":1.4},
        {"n":"current","t":-2,"v":1.5},
        {"n":"current","t":-1,"v":1.6},
        {"n":"current","v":1.7}
        ]"""
    )
    bt = 1_276_020_076_001_000_000  # Tue Jun 8 18:01:16.001 UTC 2010, exactly
    name = "urn:dev:ow:10e2073a0108006:"
    assert _resolved(pack) == [
        (name + "voltage", bt, 120.1, "V", "number"),
        (name + "current", bt - 5 * S, 1.2, "A", "number"),
        (name + "current", bt - 4 * S, 1.3, "A", "number"),
        (name + "current", bt - 3 * S, 1.4, "A", "number"),
        (name + "current", bt - 2 * S, 1.5, "A", "number"),
        (name + "current", bt - 1 * S, 1.6, "A", "number"),
        (name + "current", bt, 1.7, "A", "number"),
    ]


MULTIPLE_MEASUREMENTS = b"""[
    {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,
     "bu":"%RH","v":20},
    {"u":"lon","v":24.30621},
    {"u":"lat","v":60.07965},
    {"t":60,"v":20.3},
    {"u":"lon","t":60,"v":24.30622},
    {"u":"lat","t":60,"v":60.07965},
    {"t":120,"v":20.7},
    {"u":"lon","t":120,"v":24.30623},
    {"u":"lat","t":120,"v":60.07966},
    {"u":"%EL","t":150,"v":98},
    {"t":180,"v":21.2},
    {"u":"lon","t":180,"v":24.30628},
    {"u":"lat","t":180,"v":60.07967}
]"""

# RFC 8428 5.1.4: the resolved form of 5.1.3 (t in seconds).
RESOLVED_DATA = b"""[
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,"v":20},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,"v":24.30621},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067464e+09,"v":60.07965},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067524e+09,"v":20.3},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067524e+09,"v":24.30622},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067524e+09,"v":60.07965},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067584e+09,"v":20.7},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067584e+09,"v":24.30623},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067584e+09,"v":60.07966},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%EL","t":1.320067614e+09,"v":98},
    {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067644e+09,"v":21.2},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067644e+09,"v":24.30628},
    {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067644e+09,"v":60.07967}
]"""

EXPECTED_MEASUREMENTS = [
    (DEV, (1_320_067_464 + dt) * S, v, u, "number")
    for dt, u, v in [
        (0, "%RH", 20),
        (0, "lon", 24.30621),
        (0, "lat", 60.07965),
        (60, "%RH", 20.3),
        (60, "lon", 24.30622),
        (60, "lat", 60.07965),
        (120, "%RH", 20.7),
        (120, "lon", 24.30623),
        (120, "lat", 60.07966),
        (150, "%EL", 98),
        (180, "%RH", 21.2),
        (180, "lon", 24.30628),
        (180, "lat", 60.07967),
    ]
]


def test_5_1_3_multiple_measurements() -> None:
    assert _resolved(orjson.loads(MULTIPLE_MEASUREMENTS)) == EXPECTED_MEASUREMENTS


def test_5_1_4_resolved_data() -> None:
    assert _resolved(orjson.loads(RESOLVED_DATA)) == EXPECTED_MEASUREMENTS
    # ... and resolving 5.1.3 gives 5.1.4's records.
    resolved = [r.to_resolved() for r in resolve(orjson.loads(MULTIPLE_MEASUREMENTS), NOW)]
    assert resolved == orjson.loads(RESOLVED_DATA)


def test_5_1_5_multiple_data_types() -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "temp", "u": "Cel", "v": 23.1},
        {"n": "label", "vs": "Machine Room"},
        {"n": "open", "vb": False},
        {"n": "nfc-reader", "vd": "aGkgCg"},
    ]
    assert _resolved(pack) == [
        (DEV + ":temp", NOW, 23.1, "Cel", "number"),
        (DEV + ":label", NOW, "Machine Room", None, "string"),
        (DEV + ":open", NOW, False, None, "boolean"),
        (DEV + ":nfc-reader", NOW, "aGkgCg", None, "data"),
    ]


def test_5_1_6_collection_of_resources() -> None:
    # The last record uses the base name of the 3rd record but the base time of the first.
    pack = [
        {"bn": "2001:db8::2/", "bt": 1.320078429e09, "n": "temperature", "u": "Cel", "v": 25.2},
        {"n": "humidity", "u": "%RH", "v": 30},
        {"bn": "2001:db8::1/", "n": "temperature", "u": "Cel", "v": 12.3},
        {"n": "humidity", "u": "%RH", "v": 67},
    ]
    t = 1_320_078_429 * S
    assert _resolved(pack) == [
        ("2001:db8::2/temperature", t, 25.2, "Cel", "number"),
        ("2001:db8::2/humidity", t, 30, "%RH", "number"),
        ("2001:db8::1/temperature", t, 12.3, "Cel", "number"),
        ("2001:db8::1/humidity", t, 67, "%RH", "number"),
    ]


def test_5_1_7_setting_an_actuator() -> None:
    thermostat = [
        {"bn": "urn:dev:ow:10e2073a01080063:"},
        {"n": "temp", "u": "Cel", "v": 23.1},
        {"n": "heat", "u": "/", "v": 1},
        {"n": "fan", "u": "/", "v": 0},
    ]
    assert _resolved(thermostat) == [  # the first record only sets the base name
        (DEV + ":temp", NOW, 23.1, "Cel", "number"),
        (DEV + ":heat", NOW, 1, "/", "number"),
        (DEV + ":fan", NOW, 0, "/", "number"),
    ]


def test_5_1_7_lights() -> None:
    t = 1_320_078_429 * S
    lights_on = [
        {"bt": 1.320078429e09, "bu": "/", "n": "2001:db8::3", "v": 1},
        {"n": "2001:db8::4", "v": 1},
    ]
    assert _resolved(lights_on) == [
        ("2001:db8::3", t, 1, "/", "number"),
        ("2001:db8::4", t, 1, "/", "number"),
    ]
    lights_off = [
        {"bt": 1.320078429e09, "bu": "/", "n": "2001:db8::3", "v": 0.5},
        {"n": "2001:db8::4", "v": 0.5},
        {"n": "2001:db8::3", "t": 0.1, "v": 0},
        {"n": "2001:db8::4", "t": 0.1, "v": 0},
    ]
    assert _resolved(lights_off) == [
        ("2001:db8::3", t, 0.5, "/", "number"),
        ("2001:db8::4", t, 0.5, "/", "number"),
        ("2001:db8::3", t + 100_000_000, 0, "/", "number"),
        ("2001:db8::4", t + 100_000_000, 0, "/", "number"),
    ]


def test_relative_times_around_reception() -> None:
    pack = [
        {"n": "a", "v": 1, "t": -5},
        {"n": "a", "v": 2, "t": 0.25},
        {"n": "a", "v": 3, "bt": 100, "t": -0.5},  # bt + t = 99.5 s after reception
        {"n": "a", "v": 4, "bt": 2**28},  # the first absolute time
        {"n": "a", "v": 5, "bt": 2**28 - 1},  # still relative
    ]
    assert [r.time for r in resolve(pack, NOW)] == [
        NOW - 5 * S,
        NOW + 250_000_000,
        NOW + 99_500_000_000,
        2**28 * S,
        NOW + (2**28 - 1) * S,
    ]


def test_base_value_and_sum() -> None:
    pack = [
        {"bn": "m/", "bv": 100, "bs": 1000, "bu": "kWh", "n": "meter", "v": 5},
        {"n": "meter", "v": -1.5},
        {"n": "meter", "s": 7},  # a sum alone
        {"n": "meter", "v": 1, "s": 2},  # value and sum
        {"n": "label", "vs": "x"},  # bv only applies to v
        {"bv": 0.5, "n": "meter", "v": 1, "u": "W"},
    ]
    records = resolve(pack, NOW)
    assert [(r.name, r.value, r.kind, r.sum, r.unit) for r in records] == [
        ("m/meter", 105, "number", None, "kWh"),
        ("m/meter", 98.5, "number", None, "kWh"),
        ("m/meter", 1007, "sum", None, "kWh"),
        ("m/meter", 101, "number", 1002, "kWh"),
        ("m/label", "x", "string", None, "kWh"),
        ("m/meter", 1.5, "number", None, "W"),
    ]
    assert records[2].to_resolved() == {"n": "m/meter", "t": NOW / 1e9, "u": "kWh", "s": 1007}
    assert records[3].to_resolved()["s"] == 1002
    assert records[0].original is pack[0]
    assert [r.index for r in records] == [0, 1, 2, 3, 4, 5]


def _problems(pack: Any) -> dict[str, str]:
    with pytest.raises(InvalidReadings) as info:
        resolve(pack, NOW)
    return {p.field: p.message for p in info.value.problems}


@pytest.mark.parametrize(
    ("pack", "problems"),
    [
        ([], {"records": "a SenML pack must be a non-empty JSON array of records"}),
        ({"n": "a", "v": 1}, {"records": "a SenML pack must be a non-empty JSON array of records"}),
        ([1], {"records[0]": "must be an object"}),
        ([{"v": 1}], {"records[0].n": "the name (bn + n) is empty"}),
        (
            [{"n": "-a", "v": 1}],
            {
                "records[0].n": "name '-a' must start with a letter or digit and contain only "
                "letters, digits and - : . / _"
            },
        ),
        (
            [{"bn": "dev 1/", "n": "a", "v": 1}],
            {
                "records[0].n": "name 'dev 1/a' must start with a letter or digit and contain "
                "only letters, digits and - : . / _"
            },
        ),
        ([{"n": "a"}], {"records[0]": "needs a value (v, vs, vb or vd) or a sum (s)"}),
        ([{"n": "a", "t": 5}], {"records[0]": "needs a value (v, vs, vb or vd) or a sum (s)"}),
        ([{"n": "a", "v": 1, "vs": "1"}], {"records[0].vs": "more than one value field (v, vs)"}),
        ([{"n": "a", "v": "1"}], {"records[0].v": "must be a number"}),
        ([{"n": "a", "v": True}], {"records[0].v": "must be a number"}),
        ([{"n": "a", "vs": 1}], {"records[0].vs": "must be a string"}),
        ([{"n": "a", "vb": "true"}], {"records[0].vb": "must be true or false"}),
        ([{"n": "a", "vd": "aGk="}], {"records[0].vd": "must be base64url data without padding"}),
        ([{"n": "a", "vd": "a"}], {"records[0].vd": "must be base64url data without padding"}),
        ([{"n": 1, "v": 1}], {"records[0].n": "must be a string"}),
        ([{"n": "a", "u": 1, "v": 1}], {"records[0].u": "must be a string"}),
        ([{"n": "a", "t": "now", "v": 1}], {"records[0].t": "must be a number"}),
        ([{"n": "a", "ut": None, "v": 1}], {"records[0].ut": "must be a number"}),
        ([{"n": "a", "bt": False, "v": 1}], {"records[0].bt": "must be a number"}),
        (
            [{"n": "a", "bver": 11, "v": 1}],
            {"records[0].bver": "unsupported SenML version 11 (1..10)"},
        ),
        (
            [{"n": "a", "bver": 0, "v": 1}],
            {"records[0].bver": "unsupported SenML version 0 (1..10)"},
        ),
        ([{"n": "a", "v": 1, "x_": 1}], {"records[0].x_": "unsupported must-understand field"}),
        (
            [{"n": "a", "v": 1, "bt": -1e10}],
            {
                "records[0].t": "the time (bt + t = -10000000000.0 s) is before 1970-01-01 "
                "once added to the time of reception"
            },
        ),
        (
            [{"n": "a", "v": 1, "t": 1e10}],
            {
                "records[0].t": "the time (bt + t = 10000000000.0 s) is outside "
                "1970-01-01..2262-04-11 (ns since the epoch must fit int64)"
            },
        ),
    ],
)
def test_refused(pack: Any, problems: dict[str, str]) -> None:
    assert _problems(pack) == problems


def test_all_or_nothing_lists_every_bad_record() -> None:
    pack = [{"n": "a", "v": 1}, {"n": "a", "v": "x"}, {"n": "a", "v": 2}, {"n": "-"}]
    assert list(_problems(pack)) == ["records[1].v", "records[3].n", "records[3]"]


def test_unknown_fields_are_ignored() -> None:
    assert _resolved([{"n": "a", "v": 1, "foo": 2}]) == [("a", NOW, 1, None, "number")]


def test_bytes_and_content_type() -> None:
    assert resolve_bytes(b'[{"n":"a","vb":true}]', NOW) == [
        Record("a", NOW, True, None, "boolean", 0, {"n": "a", "vb": True})
    ]
    with pytest.raises(BadRequest, match="not valid JSON"):
        resolve_bytes(b"[{", NOW)
    assert is_senml("application/senml+json")
    assert is_senml("Application/SenML+JSON; charset=utf-8")
    assert not is_senml("application/senml+cbor")
    assert not is_senml("application/json")
