"""Wiring of the bootstrap function: its cores on lazily built ports, its router, entry points."""

from __future__ import annotations

import os
from functools import cache

from functions.bootstrap.api import build_router
from functions.bootstrap.config import BootstrapSettings
from functions.bootstrap.registrations import Registrations
from functions.bootstrap.service import BOOTSTRAP_SCOPE, Bootstrapper, BrokerAddress
from shared import clients
from shared.entry import http_function
from shared.throttle import FailureBudget

__all__ = ["app", "http", "main"]

MAX_BODY_BYTES = 64 * 1024


@cache
def _registrations() -> Registrations:
    return Registrations(clients.store())


@cache
def _bootstrapper() -> Bootstrapper:
    config = BootstrapSettings.from_env(os.environ)
    store = clients.store()
    return Bootstrapper(
        store,
        clients.broker_admin(),
        BrokerAddress(config.mqtt_url) if config.mqtt_url else None,
        FailureBudget(store, BOOTSTRAP_SCOPE, config.attempts, config.window_seconds),
    )


app, http, main = http_function(
    "bootstrap",
    build_router(_registrations, _bootstrapper),
    authenticated=True,
    max_body_bytes=MAX_BODY_BYTES,
)
