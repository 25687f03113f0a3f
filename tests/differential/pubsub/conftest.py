"""Differential Pub/Sub fixtures: our emulator and Google's, each driven by the official client.

A test writes one scenario (a function of `Clients`) and `compare` runs it against both emulators,
in a project of its own on each, and returns both answers for the test to assert equal. Answers
are normalised first (`normal`): what legitimately differs between two servers (message ids, ack
ids, publish times, schema revision ids and times) becomes positions or placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions as gexc

from tests.support.google_emulators import GoogleEmulator
from tests.support.pubsub import Clients, clients
from tests.support.services import RunningService

Scenario = Callable[[Clients], Any]


@pytest.fixture
def compare(
    pubsub_service: RunningService, google_pubsub: GoogleEmulator
) -> Callable[[Scenario], tuple[Any, Any]]:
    """`ours, google = compare(scenario)`: the scenario's normalised answer on each emulator
    (the session's `python -m emulator.pubsub` and Google's, fixtures of tests/conftest.py)."""

    def run(scenario: Scenario) -> tuple[Any, Any]:
        answers = []
        for label, address in (("ours", pubsub_service.address), ("google", google_pubsub.address)):
            with clients(label, address) as c:
                answers.append(normal(scenario(c), c))
        return answers[0], answers[1]

    return run


def outcome(call: Callable[[], Any]) -> Any:
    """What a call answered: its value, or the name of the gRPC status it failed with."""
    try:
        return call()
    except gexc.GoogleAPICallError as error:
        return f"error {error.grpc_status_code.name if error.grpc_status_code else error.code}"


def status(call: Callable[[], Any]) -> str:
    """`ok` or `error <STATUS>`: for calls whose value does not matter."""
    result = outcome(call)
    return result if isinstance(result, str) and result.startswith("error ") else "ok"


def normal(value: Any, c: Clients) -> Any:
    """Make two servers' answers comparable: the project becomes `P`; protobuf and proto-plus
    messages become dicts without what is server-specific (`state`, which ours fills as the
    service does and Google's emulator leaves out; revision ids and times)."""
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import Message

    if hasattr(value, "_pb"):
        value = value._pb
    if isinstance(value, Message):
        value = MessageToDict(value, preserving_proto_field_name=True)
        for key in ("state", "revision_id", "revision_create_time"):
            value.pop(key, None)
    if isinstance(value, dict):
        return {k: normal(v, c) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normal(v, c) for v in value]
    if isinstance(value, str):
        return value.replace(c.project, "P")
    return value
