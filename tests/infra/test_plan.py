"""`python -m infra plan`: golden files for a small manifest (both targets), and what must hold
for the real one: every function, route, subscription policy and schedule is in it, the
private key reaches only the functions that sign, and no secret is ever in the text.

Regenerate the golden files after a deliberate change: STRATUS_UPDATE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from infra.config import service_name
from infra.needs import needs
from infra.plan import arg, duration
from infra.plan_cloudrun import plan as cloudrun_plan
from infra.plan_openwhisk import plan as openwhisk_plan
from shared.manifest import Manifest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
SIGNERS = {"users", "devices", "consumers", "bootstrap"}


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("STRATUS_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed: see the diff, then STRATUS_UPDATE_GOLDEN=1"


def _openwhisk(manifest: Manifest) -> str:
    docker = tuple(sorted(manifest.openwhisk_image_functions))
    return openwhisk_plan(manifest, "openwhisk.example.com", "guest", "demo-project",
                          "europe-west1", "dist", docker)  # fmt: skip


def test_golden_cloudrun_plan(small_manifest: Manifest) -> None:
    _golden("cloudrun.sh", cloudrun_plan(small_manifest, "demo-project", "europe-west1"))


def test_golden_openwhisk_plan(small_manifest: Manifest) -> None:
    _golden("openwhisk.sh", _openwhisk(small_manifest))


@pytest.fixture(scope="module")
def plans(manifest: Manifest) -> dict[str, str]:
    return {
        "cloudrun": cloudrun_plan(manifest, "demo-project", "europe-west1"),
        "openwhisk": _openwhisk(manifest),
    }


def _lines(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(word in line for word in words)]


def test_every_function_is_deployed(manifest: Manifest, plans: dict[str, str]) -> None:
    for name, spec in manifest.functions.items():
        (deploy,) = _lines(plans["cloudrun"], "run deploy", f" {service_name(name)} ")
        target = "http" if spec.routes else "event"
        assert f"GOOGLE_FUNCTION_TARGET={target},GOOGLE_FUNCTION_SIGNATURE_TYPE=http" in deploy
        assert ("--allow-unauthenticated" in deploy) == bool(spec.routes)
        (action,) = _lines(plans["openwhisk"], "action update", f" stratus/{name} ")
        assert "--web raw" in action and "--annotation final true" in action
        assert ("--docker" in action) == (name in manifest.openwhisk_image_functions)


def test_only_the_signers_get_the_private_key(manifest: Manifest, plans: dict[str, str]) -> None:
    signers = {name for name, spec in manifest.functions.items() if needs(spec, manifest).signs}
    assert signers == SIGNERS
    run = _lines(plans["cloudrun"], "run deploy", "STRATUS_JWT_PRIVATE_KEY=")
    bound = _lines(plans["cloudrun"], "add-iam-policy-binding stratus-jwt-signing-key")
    actions = _lines(plans["openwhisk"], "action update", "STRATUS_JWT_PRIVATE_KEY")
    for lines in (run, bound, actions):
        assert {name for name in manifest.functions
                for line in lines if f"stratus-{name} " in line or f"stratus-{name}@" in line
                or f"stratus/{name} " in line} == SIGNERS  # fmt: skip
    public = _lines(plans["cloudrun"], "run deploy", "STRATUS_JWT_PUBLIC_KEYS=")
    assert len(public) == len(manifest.functions) + 1  # and the WebSocket gateway


def test_every_subscription_has_the_manifest_s_policies(
    manifest: Manifest, plans: dict[str, str]
) -> None:
    ticks = {schedule.topic for schedule in manifest.schedules}
    for sub in manifest.subscriptions:
        for target, text in plans.items():
            if target == "openwhisk" and sub.topic in ticks:  # the alarms feed fires those
                assert not _lines(text, f"subscriptions describe {sub.name} ")
                continue
            (line,) = _lines(text, f"subscriptions describe {sub.name} ")
            flags = [f"--topic={sub.topic}", f"--ack-deadline={sub.ack_deadline_seconds}",
                     f"--min-retry-delay={duration(sub.minimum_backoff)}",
                     f"--max-retry-delay={duration(sub.maximum_backoff)}"]  # fmt: skip
            if sub.dead_letter_topic:
                flags += [f"--dead-letter-topic={sub.dead_letter_topic}",
                          f"--max-delivery-attempts={sub.max_delivery_attempts}"]  # fmt: skip
            assert all(flag in line for flag in flags), (target, sub.name, line)
            if target == "cloudrun":
                assert "--push-auth-service-account=stratus-push@" in line
                assert f"/projects/demo-project/topics/{sub.topic}" in line
            else:
                assert f"{sub.function}.http/projects/demo-project/topics/{sub.topic}" in line
                assert "?token=${PUSH_TOKEN}" in line
    for pull in manifest.pull_subscriptions:
        assert _lines(plans["cloudrun"], f"subscriptions create {pull.name} ", pull.topic)


def test_schedules_and_indexes(manifest: Manifest, plans: dict[str, str]) -> None:
    for schedule in manifest.schedules:
        assert _lines(plans["cloudrun"], "scheduler jobs create pubsub",
                      f"--topic={schedule.topic}")  # fmt: skip
        assert _lines(plans["openwhisk"], "trigger create", "/whisk.system/alarms/")
    assert _lines(plans["cloudrun"], "firestore indexes fields update readings",
                  "--collection-group=chunks --disable-indexes")  # fmt: skip
    for text in plans.values():  # the failure budgets' documents expire (shared/throttle.py)
        assert _lines(text, "firestore fields ttls list --collection-group=throttles",
                      "|| gcloud firestore fields ttls update expires_at "
                      "--collection-group=throttles --enable-ttl")  # fmt: skip
        assert _lines(text, "indexes fields update expires_at --collection-group=throttles",
                      "--disable-indexes")  # fmt: skip


def test_the_broker_and_gateways_are_in_the_plan(plans: dict[str, str]) -> None:
    for text in plans.values():
        assert _lines(text, "k8s/broker.yaml | kubectl apply -f -")
        assert _lines(text, "k8s/bridge.yaml | kubectl apply -f -")
        assert _lines(text, "create secret generic stratus-mqtt-accounts")
    assert _lines(plans["cloudrun"], "run deploy stratus-websocket", "--session-affinity")
    assert _lines(plans["openwhisk"], "k8s/websocket.yaml | kubectl apply -f -")


def test_no_secret_is_ever_in_a_plan(manifest: Manifest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets in the environment of the one planning stay out of the text; the text holds no
    key material and no long random string."""
    planted = {"STRATUS_JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n",
               "STRATUS_PUSH_TOKEN": "d3c0y-t0ken-9f8e7d6c5b4a",
               "STRATUS_ADMIN_PASSWORD": "pw-8s7d6f"}  # fmt: skip
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    for text in (cloudrun_plan(manifest, "demo-project", "europe-west1"), _openwhisk(manifest)):
        assert not any(value.strip() in text for value in planted.values())
        assert "BEGIN" not in text and "PRIVATE KEY" not in text
        assert re.findall(r"[A-Za-z0-9+/=]{40,}", text) == []


def test_words_are_quoted_for_the_shell() -> None:
    assert arg("--region=europe-west1") == "--region=europe-west1"
    assert arg("a b") == '"a b"'
    assert arg("${PROJECT_NUMBER}.run.app") == '"${PROJECT_NUMBER}.run.app"'
    assert arg('$(rm -rf /) "x" `y`') == '"\\$(rm -rf /) \\"x\\" \\`y\\`"'
