"""Structured JSON logs."""

import json
import logging

from shared.logs import JsonFormatter, request_id_var, trace_var


def record(message: str, **extra: object) -> logging.LogRecord:
    log = logging.LogRecord("stratus.test", logging.WARNING, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(log, key, value)
    return log


def test_fields_use_cloud_logging_names() -> None:
    token_id, token_trace = request_id_var.set("r-1"), trace_var.set("projects/p/traces/t")
    try:
        line = json.loads(JsonFormatter("ingest").format(record("hello %s", device="d1")))
    finally:
        request_id_var.reset(token_id)
        trace_var.reset(token_trace)
    assert line["severity"] == "WARNING"
    assert line["message"] == "hello %s"
    assert line["function"] == "ingest"
    assert line["request_id"] == "r-1"
    assert line["logging.googleapis.com/trace"] == "projects/p/traces/t"
    assert line["device"] == "d1"
    assert line["time"].endswith("Z")


def test_exceptions_carry_a_stack_trace() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        import sys

        log = record("failed")
        log.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(log))
    assert "ValueError: broken" in line["stack_trace"]
    assert "request_id" not in line


def test_labels_name_the_function_of_the_record() -> None:
    from shared.logs import LABELS, function_var

    token = function_var.set("writer")
    try:
        line = json.loads(JsonFormatter("host").format(record("stored")))
    finally:
        function_var.reset(token)
    assert line["function"] == "writer"
    assert line[LABELS] == {"function": "writer", "service": "stratus"}


def test_configure_once_leaves_a_configured_root_logger_alone() -> None:
    from shared.logs import configure_once

    root = logging.getLogger()
    before = list(root.handlers)
    assert before  # pytest's own handlers: an embedding program owns logging here
    assert configure_once("DEBUG", "status") is False
    assert root.handlers == before
