"""Read `serverless.yml`: the single manifest of functions, routes, triggers, topics, environment.

The file is real Serverless Framework syntax (provider `openwhisk`); Stratus-specific details live
under `custom.stratus`. The emulator, the deployment tooling and the tests all read it through here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FunctionSpec",
    "HttpRoute",
    "Manifest",
    "ManifestError",
    "PullSubscriptionSpec",
    "ScheduleSpec",
    "SubscriptionSpec",
    "TopicSpec",
    "load",
    "parse_duration",
]

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class ManifestError(ValueError):
    """The manifest is malformed; the message names the file, the function and the key."""


def parse_duration(value: Any, where: str) -> float:
    """Seconds from `10`, `1.5s`, `250ms`, `10m`, `7d`."""
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ManifestError(f"{where}: {value!r} is not a duration like 10s, 250ms, 5m or 7d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True, slots=True)
class HttpRoute:
    method: str
    path: str


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """The push subscription that feeds a function from a topic (one per trigger)."""

    name: str
    topic: str
    function: str
    ack_deadline_seconds: int = 60
    minimum_backoff: float = 10.0
    maximum_backoff: float = 600.0
    dead_letter_topic: str | None = None
    max_delivery_attempts: int = 5


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A clock trigger: `rate(5 minutes)` (every `interval_seconds`) or `cron(*/5 * * * *)` (unix
    cron, UTC). Each tick is a message on `topic`, pushed to the function like any trigger (the
    emulator's scheduler publishes it; Cloud Scheduler or OpenWhisk's alarms feed in the cloud)."""

    function: str
    expression: str
    topic: str
    interval_seconds: float | None = None
    cron: str | None = None


_RATE = re.compile(r"^rate\((\d{1,6})\s+(minute|minutes|hour|hours|day|days)\)$")
_RATE_UNITS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
_CRON = re.compile(r"^cron\((.+)\)$")


def _schedule(event: Any, function: str, where: str) -> ScheduleSpec:
    """`schedule: rate(1 minute)`, `schedule: cron(*/5 * * * *)`, or `schedule: {rate: ...}`."""
    raw = event.get("rate") if isinstance(event, Mapping) else event
    text = " ".join(str(raw or "").split())
    topic = f"schedule-{function}"
    rate = _RATE.match(text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if count < 1:
            raise ManifestError(f"{where}: a rate is at least 1 {unit}")
        return ScheduleSpec(function, text, topic, interval_seconds=count * _RATE_UNITS[unit])
    cron = _CRON.match(text)
    if cron:
        from croniter import croniter  # only manifests with a cron schedule need it

        fields = cron.group(1).strip()
        if len(fields.split()) != 5 or not croniter.is_valid(fields):
            raise ManifestError(f"{where}: {text!r} is not a five-field unix cron expression")
        # every minute is `rate(1 minute)` too (the emulator scales rates for tests); the
        # cron form is what serverless-openwhisk accepts
        every_minute = 60.0 if fields.split() == ["*"] * 5 else None
        return ScheduleSpec(function, text, topic, interval_seconds=every_minute, cron=fields)
    raise ManifestError(
        f"{where}: schedule {text!r} must read 'rate(N minutes|hours|days)' or 'cron(m h dom mon "
        "dow)'"
    )


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic; `pull_subscription` keeps its messages for inspection (e.g. dead letters)."""

    name: str
    retention_seconds: float = 7 * 86400.0
    pull_subscription: str | None = None


@dataclass(frozen=True, slots=True)
class PullSubscriptionSpec:
    """A pull subscription keeping a topic's messages for inspection (`pullSubscription`)."""

    name: str
    topic: str
    retention_seconds: float


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function: where its code is, what triggers it, how it is packaged and sized."""

    name: str
    handler: str  # Serverless syntax: path/to/module.function, e.g. functions/status/main.main
    routes: tuple[HttpRoute, ...] = ()
    subscriptions: tuple[SubscriptionSpec, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    schedules: tuple[ScheduleSpec, ...] = ()
    # `package.patterns`, the service's then the function's (Serverless applies them in order)
    patterns: tuple[str, ...] = ()
    # OpenWhisk annotations (`web-export`, `raw-http`)
    annotations: Mapping[str, Any] = field(default_factory=dict)
    memory_mb: int | None = None  # `memory` (MB); None: the target's default
    timeout_seconds: int | None = None  # `timeout` (s); None: the target's default

    @property
    def module(self) -> str:
        """The dotted module of the handler: functions.status.main."""
        return self.handler.rsplit(".", 1)[0].replace("/", ".")

    @property
    def source(self) -> str:
        """The handler's file, relative to the manifest: functions/status/main.py."""
        return self.handler.rsplit(".", 1)[0] + ".py"

    @property
    def kind(self) -> str:
        return "http" if self.routes else "event"

    @property
    def target(self) -> str:
        """The functions-framework target in main.py: `http` or `event`."""
        return "http" if self.routes else "event"

    @property
    def signature_type(self) -> str:
        """functions-framework's --signature-type for this function."""
        return "http" if self.routes else "cloudevent"


@dataclass(frozen=True, slots=True)
class Manifest:
    service: str
    root: Path
    functions: Mapping[str, FunctionSpec]
    topics: Mapping[str, TopicSpec]
    environment: Mapping[str, str]
    # `custom.stratus.cloudrun`: `region`, and `private` (HTTP functions only IAM may call; the
    # others are public and check their own tokens), read by the Cloud Run deploy tooling
    cloudrun: Mapping[str, Any] = field(default_factory=dict)

    # `custom.stratus.openwhisk`: `docker` (functions whose dependencies pass the 48 MiB action
    # limit: their zips hold only their code and run on the generated runtime image)
    openwhisk: Mapping[str, Any] = field(default_factory=dict)

    @property
    def openwhisk_image_functions(self) -> frozenset[str]:
        """Functions deployed on OpenWhisk as code on the runtime image (`openwhisk.docker`)."""
        return frozenset(str(name) for name in self.openwhisk.get("docker") or ())

    @property
    def private_functions(self) -> frozenset[str]:
        """HTTP functions deployed IAM-authenticated (`custom.stratus.cloudrun.private`)."""
        return frozenset(str(name) for name in self.cloudrun.get("private") or ())

    @property
    def subscriptions(self) -> list[SubscriptionSpec]:
        """Every push subscription (one per trigger and schedule), in manifest order."""
        return [sub for fn in self.functions.values() for sub in fn.subscriptions]

    @property
    def pull_subscriptions(self) -> list[PullSubscriptionSpec]:
        """The pull subscriptions topics keep (dead letters to inspect), in manifest order."""
        return [
            PullSubscriptionSpec(topic.pull_subscription, topic.name, topic.retention_seconds)
            for topic in self.topics.values()
            if topic.pull_subscription
        ]

    @property
    def schedules(self) -> list[ScheduleSpec]:
        return [schedule for fn in self.functions.values() for schedule in fn.schedules]

    def routes(self) -> list[tuple[HttpRoute, FunctionSpec]]:
        return [(route, fn) for fn in self.functions.values() for route in fn.routes]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def _environment(value: Any, where: str) -> dict[str, str]:
    env = _mapping(value, where)
    for key, item in env.items():
        if not isinstance(item, (str, int, float, bool)):
            raise ManifestError(f"{where}.{key} must be a scalar")
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()}


def _http_route(event: Any, where: str) -> HttpRoute:
    if isinstance(event, str):
        parts = event.split()
        if len(parts) != 2:
            raise ManifestError(f"{where}: http event {event!r} must read 'METHOD /path'")
        method, path = parts
    else:
        spec = _mapping(event, where)
        method, path = str(spec.get("method", "")), str(spec.get("path", ""))
    method = method.upper()
    if method not in _METHODS:
        raise ManifestError(f"{where}: unknown HTTP method {method!r}")
    if not path.startswith("/"):
        raise ManifestError(f"{where}: path {path!r} must start with '/'")
    return HttpRoute(method, path)


def _subscription(
    event: Any, function: str, topics: Mapping[str, TopicSpec], where: str
) -> SubscriptionSpec:
    spec = {"name": event} if isinstance(event, str) else dict(_mapping(event, where))
    topic = str(spec.get("name", ""))
    if topic not in topics:
        raise ManifestError(
            f"{where}: trigger {topic!r} is not a topic in custom.stratus.topics "
            f"(found: {', '.join(sorted(topics)) or 'none'})"
        )
    sub = _mapping(spec.get("subscription"), f"{where}.subscription")
    dead_letter = sub.get("deadLetterTopic")
    if dead_letter is not None and dead_letter not in topics:
        raise ManifestError(f"{where}: deadLetterTopic {dead_letter!r} is not a declared topic")
    attempts = int(sub.get("maxDeliveryAttempts", 5))
    if not 5 <= attempts <= 100:
        raise ManifestError(f"{where}: maxDeliveryAttempts must be within 5..100, got {attempts}")
    return SubscriptionSpec(
        name=str(spec.get("rule") or f"{function}-{topic}"),
        topic=topic,
        function=function,
        ack_deadline_seconds=int(parse_duration(sub.get("ackDeadline", "60s"), where)),
        minimum_backoff=parse_duration(sub.get("minimumBackoff", "10s"), where),
        maximum_backoff=parse_duration(sub.get("maximumBackoff", "600s"), where),
        dead_letter_topic=str(dead_letter) if dead_letter else None,
        max_delivery_attempts=attempts,
    )


def _schedule_subscription(function: str) -> SubscriptionSpec:
    """The push subscription a schedule's ticks arrive by: a tick is not retried for long (the
    next one comes), so a few attempts and no dead letter."""
    return SubscriptionSpec(
        name=f"{function}-schedule",
        topic=f"schedule-{function}",
        function=function,
        ack_deadline_seconds=60,
        minimum_backoff=1.0,
        maximum_backoff=10.0,
        max_delivery_attempts=5,
    )


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    patterns = _mapping(value, where).get("patterns") or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ManifestError(f"{where}.patterns must be a list of path globs")
    return tuple(patterns)


def _positive(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ManifestError(f"{where} must be a positive whole number, got {value!r}")
    return value


def _function(
    name: str,
    raw: Any,
    topics: Mapping[str, TopicSpec],
    root: Path,
    patterns: tuple[str, ...] = (),
) -> FunctionSpec:
    where = f"functions.{name}"
    if not _NAME.match(name):
        raise ManifestError(f"{where}: function names are lower-case letters, digits and '-'")
    spec = _mapping(raw, where)
    handler = spec.get("handler")
    if not isinstance(handler, str) or "." not in handler:
        raise ManifestError(f"{where}.handler must read 'path/to/main.main'")
    routes: list[HttpRoute] = []
    subscriptions: list[SubscriptionSpec] = []
    schedules: list[ScheduleSpec] = []
    for index, event in enumerate(spec.get("events") or []):
        event_where = f"{where}.events[{index}]"
        event = _mapping(event, event_where)
        if "http" in event:
            routes.append(_http_route(event["http"], event_where))
        elif "trigger" in event:
            subscriptions.append(_subscription(event["trigger"], name, topics, event_where))
        elif "schedule" in event:
            if schedules:
                raise ManifestError(f"{event_where}: a function has at most one schedule")
            schedules.append(_schedule(event["schedule"], name, event_where))
            subscriptions.append(_schedule_subscription(name))
        else:
            raise ManifestError(f"{event_where}: expected an 'http', 'trigger' or 'schedule' event")
    if routes and subscriptions:
        raise ManifestError(f"{where}: a function is either HTTP or event-triggered, not both")
    if not routes and not subscriptions:
        raise ManifestError(f"{where}: has no events; give it an http route or a trigger")
    function = FunctionSpec(
        name=name,
        handler=handler,
        routes=tuple(routes),
        subscriptions=tuple(subscriptions),
        environment=_environment(spec.get("environment"), f"{where}.environment"),
        schedules=tuple(schedules),
        patterns=patterns + _patterns(spec.get("package"), f"{where}.package"),
        annotations=dict(_mapping(spec.get("annotations"), f"{where}.annotations")),
        memory_mb=_positive(spec.get("memory"), f"{where}.memory"),
        timeout_seconds=_positive(spec.get("timeout"), f"{where}.timeout"),
    )
    if not (root / function.source).is_file():
        raise ManifestError(f"{where}.handler: {function.source} does not exist")
    return function


def _target(
    value: Any, where: str, key: str, functions: Mapping[str, FunctionSpec], *, http: bool = False
) -> dict[str, Any]:
    """A target's settings (`custom.stratus.<target>`) whose `key` lists functions of the
    manifest (HTTP ones when `http`)."""
    settings = dict(_mapping(value, where))
    names = settings.get(key) or []
    if not isinstance(names, list):
        raise ManifestError(f"{where}.{key} must be a list of function names")
    for name in names:
        if name not in functions or (http and not functions[name].routes):
            kind = "an HTTP function" if http else "a function"
            raise ManifestError(f"{where}.{key}: {name!r} is not {kind} of the manifest")
    return settings


def load(path: str | Path) -> Manifest:
    """Parse and validate the manifest at `path`."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from None
    doc = _mapping(raw, str(path))
    provider = _mapping(doc.get("provider"), "provider")
    stratus = _mapping(_mapping(doc.get("custom"), "custom").get("stratus"), "custom.stratus")
    topics: dict[str, TopicSpec] = {}
    for name, options in _mapping(stratus.get("topics"), "custom.stratus.topics").items():
        options = _mapping(options, f"custom.stratus.topics.{name}")
        where = f"custom.stratus.topics.{name}"
        if not _NAME.match(str(name)):
            raise ManifestError(f"{where}: topic names are lower-case letters, digits and '-'")
        retention = parse_duration(options.get("retention", "7d"), where)
        pull = options.get("pullSubscription")
        topics[str(name)] = TopicSpec(str(name), retention, str(pull) if pull else None)
    common = _patterns(doc.get("package"), "package")
    functions = {
        str(name): _function(str(name), spec, topics, path.parent, common)
        for name, spec in _mapping(doc.get("functions"), "functions").items()
    }
    for schedule in (s for fn in functions.values() for s in fn.schedules):
        if schedule.topic in topics:
            raise ManifestError(
                f"custom.stratus.topics.{schedule.topic}: the name is kept for the ticks of "
                f"function {schedule.function}'s schedule"
            )
        topics[schedule.topic] = TopicSpec(schedule.topic, retention_seconds=86400.0)
    seen: dict[tuple[str, str], str] = {}
    for fn in functions.values():
        for route in fn.routes:
            key = (route.method, route.path.rstrip("/") or "/")
            if key in seen:
                raise ManifestError(
                    f"{route.method} {route.path} is routed to both {seen[key]} and {fn.name}"
                )
            seen[key] = fn.name
    return Manifest(
        service=str(doc.get("service") or "stratus"),
        root=path.parent.resolve(),
        functions=functions,
        topics=topics,
        environment=_environment(provider.get("environment"), "provider.environment"),
        cloudrun=_target(
            stratus.get("cloudrun"), "custom.stratus.cloudrun", "private", functions, http=True
        ),
        openwhisk=_target(
            stratus.get("openwhisk"), "custom.stratus.openwhisk", "docker", functions
        ),
    )
