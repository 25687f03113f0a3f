"""Property-based API tests: schemathesis generates requests from the platform's own
`/openapi.json` for every operation, with admin, member, consumer and device tokens in turn, and
follows its links (create a device, then read, change and delete it) in a stateful run. Any 5xx,
an undocumented status, or an answer that does not match its schema fails.

Runs its own emulator: generated calls change passwords, rotate keys and delete users. Bounded:
a few examples per operation and a short stateful run, about two minutes on 2 cores.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from tests.e2e.provisioning import signin
from tests.support.emulator import RunningEmulator, start_emulator

pytestmark = [pytest.mark.e2e, pytest.mark.process, pytest.mark.timeout(600)]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
EXAMPLES = 8  # per operation: two per kind of token
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure reproduces
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    emulator = start_emulator(tmp_path_factory.mktemp("schemathesis") / "data")
    try:
        yield emulator
    finally:
        if emulator.process and emulator.process.poll() is None:
            emulator.stop()


@pytest.fixture(scope="module")
def tokens(platform: RunningEmulator) -> dict[str, str]:
    """One token of each kind, made through the API before any generated call."""
    admin = signin(platform)
    member_name, password = "fuzz-member", "a member's password"
    created = admin.post(
        "/api/users", json={"username": member_name, "password": password, "role": "member"}
    )
    assert created.status_code == 201, created.text
    member = admin.post(
        "/api/users/signin", json={"username": member_name, "password": password}
    ).json()["token"]
    device = admin.post("/api/devices/", json={"name": "fuzz"}).json()["result"]["id"]
    admin.post(f"/api/devices/{device}/sensors/", json={"name": "t", "mapping": {"type": "double"}})
    device_token = admin.get(f"/api/devices/{device}/key").json()["token"]
    consumer = admin.post("/api/consumers/", json={"name": "fuzz"}).json()
    consumer_id = consumer.get("id") or consumer["result"]["id"]
    consumer_token = admin.get(f"/api/consumers/{consumer_id}/key").json()["token"]
    assert admin.token is not None
    return {"admin": admin.token, "member": member, "consumer": consumer_token,
            "device": device_token}  # fmt: skip


@pytest.fixture(scope="module")
def api_schema(platform: RunningEmulator) -> Any:
    return schemathesis.openapi.from_url(f"{platform.base_url}/openapi.json")


_turns: dict[str, Iterator[str]] = {}


def _token_for(case: Any, tokens: dict[str, str]) -> str:
    """Device operations take the device token; every other operation gets admin, member,
    consumer and device tokens in turn (a token of the wrong kind must be refused)."""
    key = f"{case.method} {case.path}"
    if key not in _turns:
        _turns[key] = itertools.cycle(("admin", "member", "consumer", "device"))
    security = case.operation.definition.raw.get("security", [])
    secured = {name for entry in security for name in entry}
    kind = "device" if secured == {"device"} else next(_turns[key])
    return tokens[kind]


def test_every_operation_answers_as_documented(
    api_schema: Any, tokens: dict[str, str], platform: RunningEmulator
) -> None:
    failures: list[str] = []
    statuses: collections.Counter[int] = collections.Counter()
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @BOUNDED
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
            }
            headers["authorization"] = f"Bearer {_token_for(case, tokens)}"  # a real one
            response = case.call_and_validate(
                base_url=platform.base_url, headers=headers, checks=CHECKS
            )
            statuses[response.status_code] += 1

        try:
            call()
        except Exception as exc:  # every operation's failures, reported together
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    print(f"schemathesis: {sum(statuses.values())} calls, statuses {sorted(statuses.items())}")
    assert not failures, "\n\n".join(failures)
    assert statuses[200] + statuses[201] + statuses[204] > 0  # some calls got through


def test_linked_operations_answer_as_documented(
    api_schema: Any, tokens: dict[str, str], platform: RunningEmulator
) -> None:
    """The stateful run: create, then read, change and delete what was created, through the
    links of the document, as an admin."""
    machine = api_schema.as_state_machine()
    headers = {"authorization": f"Bearer {tokens['admin']}"}

    class Run(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            kept = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            case.headers = {**kept, **headers}  # the admin's token, not a generated one

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": platform.base_url}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            calls[f"{case.method} {case.path} {response.status_code}"] += 1
            case.validate_response(response, checks=CHECKS)

    calls: collections.Counter[str] = collections.Counter()
    Run.run(settings=settings(BOUNDED, max_examples=6, stateful_step_count=6))
    print(f"schemathesis stateful: {sum(calls.values())} calls: {sorted(calls.items())}")
    followed = [call for call in calls if "{" in call and call.endswith((" 200", " 204"))]
    assert followed, "no link was followed to a created resource"
