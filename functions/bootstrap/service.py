"""Device core of the bootstrap function: a device presents its external id and key and gets its
device id, token, broker address and topics, sensors and config; the device (with the
registration's sensors) is created on its first contact, once, whatever the concurrency.

Order of checks: the `Bootstrap <key>` header (401), the external id (404), the id's budget of
failed attempts (429; read with the registration in one round trip), the key (403, one failure
counted, logged), the budget again (429: guesses in flight may have spent it), the registration
being enabled (403). A right key costs nothing and gives nothing back, so any number of
bootstraps at once go through and a device's bootstraps never reopen its id to a guesser. Only
then is anything created, in one transaction with the registration (`device` set in it), so two
first contacts at once make one device. The broker login is (re)registered at every bootstrap: a 503
there leaves the device created, and bootstrapping again finishes the job.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from functions.bootstrap.model import external_id_or_404, index_path, registration_path
from shared.auth.guard import credential
from shared.auth.passwords import verify_password
from shared.auth.tokens import issue_device_token
from shared.broker import BrokerAdmin, config_topic, state_topic
from shared.directory import device_index_path, device_path, new_id
from shared.errors import NotFound, PermissionDenied
from shared.provisioning import IssueToken, device_token, new_device, sensor_view, sync_login
from shared.store import Document, Query, Store
from shared.throttle import FailureBudget

__all__ = ["BOOTSTRAP_SCOPE", "Bootstrapper", "BrokerAddress", "bootstrap_key"]

BOOTSTRAP_SCOPE = "bootstrap"  # the failure budgets' scope (shared.throttle), keyed by external id
_log = logging.getLogger("stratus.bootstrap")


def bootstrap_key(authorization: str | None) -> str:
    """The key of an `authorization: Bootstrap <external key>` header (scheme case-insensitive);
    401 when absent or in another form."""
    return credential(authorization, "Bootstrap", "external key")


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where devices reach the MQTT broker (`mqtt://host:port`, or `mqtts://...` behind TLS)."""

    url: str

    def describe(self, device: str) -> dict[str, Any]:
        return {
            "url": self.url,
            "username": device,  # the password is the device token
            "topics": {
                "telemetry": f"devices/{device}/events",
                "state": state_topic(device),
                "config": config_topic(device),
                "commands": f"devices/{device}/commands/#",
            },
        }


class Bootstrapper:
    """Answers bootstrap requests against `store`, keeping device logins in `broker`."""

    def __init__(
        self,
        store: Store,
        broker: BrokerAdmin | None,
        address: BrokerAddress | None,
        budget: FailureBudget,
        *,
        clock: Callable[[], float] = time.time,
        issue: IssueToken = issue_device_token,
    ) -> None:
        self.store = store
        self.broker = broker
        self.address = address
        self.budget = budget
        self.clock = clock
        self.issue = issue

    def bootstrap(self, external_id: str, authorization: str | None) -> dict[str, Any]:
        key = bootstrap_key(authorization)
        external_id = external_id_or_404(external_id)
        index = self.store.get(index_path(external_id))
        org = index.data.get("org") if index is not None else None
        if not isinstance(org, str):
            raise NotFound(f"no bootstrap registration {external_id!r}")
        registration, *failures = self.store.get_many(
            [registration_path(org, external_id), *self.budget.paths(external_id)]
        )
        counted = self.budget.check(external_id, (failures[0], failures[1]))
        if registration is None:
            raise NotFound(f"no bootstrap registration {external_id!r}")
        if not verify_password(registration.data["key_hash"], key):
            self.budget.failed(external_id)
            failure = math.floor(counted) + 1
            _log.warning(
                "bootstrap of %r refused: wrong external key (failure %d of %d per %d s)",
                external_id, failure, self.budget.failures, self.budget.window_seconds,
                extra={"external_id": external_id, "org": org, "failure": failure},
            )  # fmt: skip
            raise PermissionDenied("wrong external key")
        self.budget.check(external_id)  # guesses in flight may have spent it meanwhile
        if not registration.data.get("enabled", True):
            raise PermissionDenied(f"bootstrap registration {external_id!r} is disabled")
        device, created = self._provision(org, registration)
        if self.broker is None:
            token = device_token(self.issue, org, device)
        else:
            token = sync_login(
                self.store, self.broker, org, device, self.issue,
                failed="the device exists but the MQTT broker did not take its login",
                then="bootstrap again",
            )  # fmt: skip
        _log.info(
            "bootstrap of %r: device %s %s", external_id, device.id,
            "created" if created else "returned", extra={"external_id": external_id, "org": org},
        )  # fmt: skip
        return {
            "device_id": device.id,
            "device_token": token,
            "key_version": device.data["key_version"],
            "created": created,
            "broker": self.address.describe(device.id) if self.address else None,
            "http": {"ingest": "/ingest"},
            "sensors": self._sensors(org, device.id),
            "config": orjson.loads(registration.data.get("config") or "{}"),
        }

    def _provision(self, org: str, verified: Document) -> tuple[Document, bool]:
        """The registration's device, created with its sensors on first contact (one
        transaction with the registration, so concurrent first contacts make one device)."""
        path = verified.path
        version = verified.data.get("key_version", 1)

        def provision(txn: Any) -> tuple[str, bool]:
            registration = txn.get(path)
            if registration is None:
                raise NotFound(f"no bootstrap registration {verified.id!r}")
            data = registration.data
            if data.get("key_version", 1) != version:
                raise PermissionDenied("the external key was rotated meanwhile")
            if not data.get("enabled", True):
                raise PermissionDenied(f"bootstrap registration {verified.id!r} is disabled")
            existing = data.get("device")
            if isinstance(existing, str) and txn.get(device_path(org, existing)) is not None:
                return existing, False
            device, now = new_id(), datetime.fromtimestamp(self.clock(), UTC)
            fields = {
                "name": data.get("name") or verified.id,
                "description": data.get("description", ""),
            }
            txn.create(device_path(org, device), new_device(fields, now))
            txn.create(device_index_path(device), {"org": org})
            for sensor in data.get("sensors", []):
                txn.create(
                    f"{device_path(org, device)}/sensors/{new_id()}",
                    {**sensor, "created_at": now, "updated_at": now},
                )
            txn.update(path, {"device": device, "bootstrapped_at": now, "updated_at": now})
            return device, True

        device_id, created = self.store.run_transaction(provision, max_attempts=10)
        document = self.store.get(device_path(org, device_id))
        if document is None:  # deleted in the blink between: the next bootstrap makes a new one
            raise NotFound("the device was deleted meanwhile; bootstrap again")
        return document, created

    def _sensors(self, org: str, device: str) -> list[dict[str, Any]]:
        collection = f"{device_path(org, device)}/sensors"
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.store.query(
                Query(collection, order_by=(("created_at", "asc"),), limit=100, after=cursor)
            )
            out.extend(sensor_view(document, device) for document in page.documents)
            if page.next is None:
                return out
            cursor = page.next
