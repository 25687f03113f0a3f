"""The bus topics functions and gateways publish to, named once (serverless.yml declares them)."""

from __future__ import annotations

__all__ = [
    "ALERT_CHANGES",
    "ANOMALIES",
    "DEVICE_STATE",
    "INFERENCE_DEAD",
    "INFERENCE_REQUESTS",
    "NOTIFICATIONS",
    "NOTIFICATIONS_DEAD",
    "RULE_OUTPUT",
    "TELEMETRY_DEAD",
    "TELEMETRY_NORMALIZED",
    "TELEMETRY_RAW",
    "schedule_topic",
]

TELEMETRY_RAW = "telemetry-raw"  # bodies as devices sent them (ingest, WebSocket, MQTT bridge)
TELEMETRY_NORMALIZED = "telemetry-normalized"  # typed readings of known sensors, for the writer
TELEMETRY_DEAD = "telemetry-dead"  # everything refused, with its reason (shared.deadletter)
DEVICE_STATE = "device-state"  # states devices report over MQTT, batched by the bridge
# Rules, inference and alerts (docs/ARCHITECTURE.md "Rules, inference and alerts")
ANOMALIES = "anomalies"  # scored readings above their detector's threshold (and clearings)
ALERT_CHANGES = "alert-changes"  # every alert opened, acknowledged or resolved
NOTIFICATIONS = "notifications"  # one message per action of a rule to carry out
NOTIFICATIONS_DEAD = "notifications-dead"  # actions that failed every attempt, with the reason
INFERENCE_REQUESTS = "inference-requests"  # readings for remote (KServe v2) models
INFERENCE_DEAD = "inference-dead"  # remote scoring that failed every attempt, with the reason
RULE_OUTPUT = "rule-output"  # the `publish` action's topic (a pull subscription reads it)


def schedule_topic(function: str) -> str:
    """The topic a function's `schedule` events tick on (serverless.yml `- schedule: ...`)."""
    return f"schedule-{function}"
