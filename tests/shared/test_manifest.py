"""Reading and validating serverless.yml."""

from pathlib import Path

import pytest

from shared.manifest import ManifestError, load, parse_duration

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_manifest_loads_and_every_handler_exists() -> None:
    manifest = load(ROOT / "serverless.yml")
    assert "status" in manifest.functions
    for fn in manifest.functions.values():
        assert (ROOT / fn.source).is_file()
        assert fn.target in {"http", "event"}


def test_fixture_manifest_describes_http_and_event_functions() -> None:
    manifest = load(ROOT / "tests/fixtures/serverless.yml")
    echo, sink = manifest.functions["echo"], manifest.functions["sink"]
    assert (echo.kind, echo.target, echo.signature_type, echo.module) == (
        "http",
        "http",
        "http",
        "echo.main",
    )
    assert [(r.method, r.path) for r in echo.routes] == [
        ("GET", "/echo/{name}"),
        ("POST", "/echo/{name}"),
    ]
    (sub,) = sink.subscriptions
    assert (sink.target, sink.signature_type) == ("event", "cloudevent")
    assert (sub.name, sub.topic, sub.dead_letter_topic) == ("sink-things", "things", "things-dead")
    assert (sub.minimum_backoff, sub.max_delivery_attempts) == (0.1, 5)


def write(tmp_path: Path, functions: str, topics: str = "{}") -> Path:
    (tmp_path / "f").mkdir(exist_ok=True)
    (tmp_path / "f" / "main.py").write_text("")
    path = tmp_path / "serverless.yml"
    path.write_text(
        "service: t\nprovider: {name: openwhisk}\n"
        f"custom: {{stratus: {{topics: {topics}}}}}\nfunctions:\n{functions}"
    )
    return path


@pytest.mark.parametrize(
    ("functions", "topics", "message"),
    [
        (
            "  a: {handler: f/main.main, events: [{http: 'FETCH /x'}]}\n",
            "{}",
            "unknown HTTP method",
        ),
        ("  a: {handler: f/main.main, events: [{http: 'GET x'}]}\n", "{}", "must start with '/'"),
        (
            "  a: {handler: f/main.main, events: [{http: 'GET'}]}\n",
            "{}",
            "must read 'METHOD /path'",
        ),
        ("  a: {handler: f/main.main, events: [{trigger: nope}]}\n", "{t1: {}}", "trigger 'nope'"),
        ("  a: {handler: f/main.main}\n", "{}", "has no events"),
        ("  a: {handler: missing/main.main, events: [{http: 'GET /x'}]}\n", "{}", "does not exist"),
        ("  a: {handler: nodot, events: [{http: 'GET /x'}]}\n", "{}", "handler must read"),
        ("  A_b: {handler: f/main.main, events: [{http: 'GET /x'}]}\n", "{}", "function names"),
        (
            "  a: {handler: f/main.main, events: [{http: 'GET /x'}, {trigger: t1}]}\n",
            "{t1: {}}",
            "not both",
        ),
        (
            "  a: {handler: f/main.main, events: [{http: 'GET /x'}]}\n"
            "  b: {handler: f/main.main, events: [{http: 'GET /x/'}]}\n",
            "{}",
            "routed to both a and b",
        ),
        (
            "  a: {handler: f/main.main, events: [{trigger: {name: t1, subscription: "
            "{maxDeliveryAttempts: 2}}}]}\n",
            "{t1: {}}",
            "within 5..100",
        ),
        (
            "  a: {handler: f/main.main, events: [{trigger: {name: t1, subscription: "
            "{deadLetterTopic: gone}}}]}\n",
            "{t1: {}}",
            "deadLetterTopic 'gone'",
        ),
        ("  a: {handler: f/main.main, events: [{queue: q}]}\n", "{}", "'http' or 'trigger'"),
    ],
)
def test_invalid_manifests_are_refused_with_the_place_named(
    tmp_path: Path, functions: str, topics: str, message: str
) -> None:
    with pytest.raises(ManifestError, match=message):
        load(write(tmp_path, functions, topics))


def test_unreadable_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load(tmp_path / "absent.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("functions: [unclosed")
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load(bad)


@pytest.mark.parametrize(
    ("text", "seconds"), [("10", 10), ("1.5s", 1.5), ("250ms", 0.25), ("5m", 300), ("7d", 604800)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "x") == seconds


def test_bad_duration() -> None:
    with pytest.raises(ManifestError, match="not a duration"):
        parse_duration("soon", "here")
