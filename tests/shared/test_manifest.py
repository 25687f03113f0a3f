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
        ("  a: {handler: f/main.main, events: [{queue: q}]}\n", "{}", "'trigger' or 'schedule'"),
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


@pytest.mark.parametrize(
    ("event", "interval", "cron"),
    [
        ("'rate(1 minute)'", 60.0, None),
        ("'rate(5 minutes)'", 300.0, None),
        ("'rate(2 hours)'", 7200.0, None),
        ("'cron(*/5 * * * *)'", None, "*/5 * * * *"),
        ("{rate: 'cron(0 3 * * 1)'}", None, "0 3 * * 1"),
        ("'cron(* * * * *)'", 60.0, "* * * * *"),  # every minute: also a rate the emulator scales
    ],
)
def test_a_schedule_is_a_tick_topic_pushed_to_the_function(
    tmp_path: Path, event: str, interval: float | None, cron: str | None
) -> None:
    manifest = load(
        write(tmp_path, f"  clock: {{handler: f/main.main, events: [{{schedule: {event}}}]}}\n")
    )
    fn = manifest.functions["clock"]
    (schedule,) = fn.schedules
    assert (schedule.interval_seconds, schedule.cron, schedule.topic) == (
        interval,
        cron,
        "schedule-clock",
    )
    assert manifest.schedules == [schedule]
    (sub,) = fn.subscriptions
    assert (sub.name, sub.topic, sub.function) == ("clock-schedule", "schedule-clock", "clock")
    assert "schedule-clock" in manifest.topics
    assert (fn.kind, fn.target, fn.signature_type) == ("event", "event", "cloudevent")


@pytest.mark.parametrize(
    ("events", "topics", "message"),
    [
        ("[{schedule: 'rate(0 minutes)'}]", "{}", "at least 1"),
        ("[{schedule: 'rate(1 second)'}]", "{}", "must read 'rate"),
        ("[{schedule: 'every minute'}]", "{}", "must read 'rate"),
        ("[{schedule: 'cron(61 * * * *)'}]", "{}", "five-field unix cron"),
        ("[{schedule: 'cron(* * * *)'}]", "{}", "five-field unix cron"),
        ("[{schedule: 'rate(1 minute)'}, {schedule: 'rate(2 minutes)'}]", "{}", "at most one"),
        ("[{schedule: 'rate(1 minute)'}]", "{schedule-a: {}}", "kept for the ticks"),
        ("[{schedule: 'rate(1 minute)'}, {http: 'GET /x'}]", "{}", "not both"),
    ],
)
def test_bad_schedules_are_refused(tmp_path: Path, events: str, topics: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        load(write(tmp_path, f"  a: {{handler: f/main.main, events: {events}}}\n", topics))
