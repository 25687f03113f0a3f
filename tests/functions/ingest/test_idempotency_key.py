"""The `idempotency-key` header of HTTP ingest: checked at the door, carried to the bus as the
`idempotency_key` attribute (the writer names chunks after it), absent when not given."""

from __future__ import annotations

import pytest

from tests.functions.ingest.conftest import S1, Setup
from tests.functions.ingest.test_ingest import post, reading


def test_the_key_travels_as_an_attribute(setup: Setup) -> None:
    answer = post(setup, [reading(S1)], headers={"idempotency-key": " 9f1c-batch-7 "})
    assert answer.status == 200, answer.body
    plain = post(setup, [reading(S1)])
    assert plain.status == 200
    keyed, unkeyed = setup.drain()
    assert keyed.attributes["idempotency_key"] == "9f1c-batch-7"
    assert "idempotency_key" not in unkeyed.attributes


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, "caf\u00e9", "tab\tkey"])
def test_a_malformed_key_is_400_and_nothing_is_published(setup: Setup, key: str) -> None:
    answer = post(setup, [reading(S1)], headers={"idempotency-key": key})
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["field"] == "idempotency-key"
    assert setup.drain() == []
