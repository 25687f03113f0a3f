"""Structured JSON logs with Cloud Logging's field names, and the per-request context they carry."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

__all__ = [
    "LABELS",
    "JsonFormatter",
    "configure",
    "configure_once",
    "function_var",
    "request_id_var",
    "trace_var",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
trace_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)
# the function a record belongs to, where one process serves several (the emulator's host)
function_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)
LABELS = "logging.googleapis.com/labels"

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_configured = False


class JsonFormatter(logging.Formatter):
    """One JSON object per line in Cloud Logging's structured form: `severity`, `message`, `time`,
    `logging.googleapis.com/trace`, `logging.googleapis.com/labels` (`function`, `service`),
    plus the logger, the request id and the record's extras."""

    def __init__(self, function: str = "") -> None:
        super().__init__()
        self.function = function

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "logger": record.name,
        }
        function = function_var.get() or self.function
        if function:
            entry["function"] = function
            entry[LABELS] = {"function": function, "service": "stratus"}
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        trace = trace_var.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO", function: str = "") -> None:
    """Send the root logger's records to stdout as JSON lines at `level` (what
    STRATUS_LOG_LEVEL says), replacing its handlers; idempotent per process."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(function))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    _configured = True


def configure_once(level: str, function: str) -> bool:
    """What a platform adapter calls on its first request (Cloud Run, OpenWhisk): `configure`,
    unless logging was set up already (this process, or a program embedding the function, such
    as a test runner, owns the root logger's handlers). True when it configured."""
    if _configured or logging.getLogger().handlers:
        return False
    configure(level, function)
    return True
