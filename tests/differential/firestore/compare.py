"""Run the same official-client code against both emulators and put the answers in a form that
compares equal exactly when the answers are the same (types kept: 1 is not 1.0; NaN equals NaN;
errors by their gRPC status; server times left out)."""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import DocumentReference, DocumentSnapshot, GeoPoint
from google.cloud.firestore_v1.vector import Vector

__all__ = ["ONCE", "Pair", "normal", "outcome", "pair_of", "snapshots"]

# Reads the suites compare are sent once: the client would retry an INTERNAL for five minutes.
ONCE: dict[str, Any] = {"retry": None, "timeout": 60}


@dataclass
class Pair:
    """The same project on our emulator and on Google's."""

    ours: firestore.Client
    google: firestore.Client

    def both(self, fn: Callable[[firestore.Client], Any]) -> tuple[Any, Any]:
        """`fn` run on each client, its outcome normalised: (ours, google)."""
        return outcome(lambda: fn(self.ours)), outcome(lambda: fn(self.google))

    def clients(self) -> Iterator[firestore.Client]:
        yield self.ours
        yield self.google


@contextmanager
def _emulator_host(address: str) -> Iterator[None]:
    old = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = address
    try:
        yield
    finally:
        if old is None:
            del os.environ["FIRESTORE_EMULATOR_HOST"]
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = old


def client_of(address: str, project: str) -> firestore.Client:
    """An official client bound to the emulator at `address` (read when it is built)."""
    with _emulator_host(address):
        return firestore.Client(project=project)


def pair_of(ours: str, google: str, project: str) -> Pair:
    return Pair(client_of(ours, project), client_of(google, project))


def normal(value: Any) -> Any:
    """A comparable, type-tagged form of a value the client decoded."""
    if value is None or isinstance(value, bool | str | bytes):
        return value
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("double", "NaN" if math.isnan(value) else value)
    if isinstance(value, datetime.datetime):
        return ("time", value.isoformat())
    if isinstance(value, DocumentReference):
        return ("ref", value.path)
    if isinstance(value, GeoPoint):
        return ("geo", value.latitude, value.longitude)
    if isinstance(value, Vector):
        return ("vector", tuple(normal(v) for v in value))
    if isinstance(value, list | tuple):
        return ("array", tuple(normal(v) for v in value))
    if isinstance(value, dict):
        return ("map", tuple(sorted((k, normal(v)) for k, v in value.items())))
    if isinstance(value, DocumentSnapshot):
        return ("doc", value.id, normal(value.to_dict()) if value.exists else None)
    return ("other", repr(value))


def snapshots(docs: Any) -> list[Any]:
    """Query results: ids and data, in order."""
    return [normal(d) for d in docs]


def outcome(call: Callable[[], Any]) -> Any:
    """What `call` returns, normalised, or the error it raises: its gRPC status name for a
    server error, the exception type and message for one the client raises itself."""
    try:
        return normal(call())
    except gexc.GoogleAPICallError as error:
        code = error.grpc_status_code
        return ("error", code.name if code is not None else type(error).__name__)
    except Exception as error:  # the client's own refusals, compared by type and message
        return ("client error", type(error).__name__, str(error))
