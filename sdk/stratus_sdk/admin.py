"""The management API for users of an organisation: orgs, users, devices, sensors, consumers,
keys, bootstrap registrations and device control. Every error is a typed `StratusError`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from stratus_sdk._http import Http, Session
from stratus_sdk.models import Consumer, Device, Org, Registration, Sensor, User

__all__ = ["AdminClient"]

T = TypeVar("T")


class AdminClient(Session):
    """A user's session: `AdminClient.sign_in(url, username, password)` or a token you hold.

    Lists are iterators that fetch the following pages as you go (`page_size` per request).
    """

    @classmethod
    def sign_in(cls, base_url: str, username: str, password: str, **kwargs: Any) -> AdminClient:
        """Sign in (`POST /api/users/signin`) and keep the user token."""
        http = Http(base_url)
        try:
            body = http.json(
                "POST", "/api/users/signin", json={"username": username, "password": password}
            )
        finally:
            http.close()
        return cls(base_url, str(body["token"]), **kwargs)

    def _pages(
        self,
        path: str,
        key: str,
        build: Callable[[dict[str, Any]], T],
        page_size: int,
        **params: Any,
    ) -> Iterator[T]:
        cursor = None
        while True:
            page = self.http.json(
                "GET", path, params={"limit": page_size, "cursor": cursor, **params}
            )
            yield from (build(item) for item in page[key])
            cursor = page.get("next")
            if not cursor:
                return

    # organisation and users -----------------------------------------------------------------

    def org(self) -> Org:
        return Org.from_json(self.http.json("GET", "/api/orgs/self"))

    def rename_org(self, name: str) -> Org:
        return Org.from_json(self.http.json("PATCH", "/api/orgs/self", json={"name": name}))

    def me(self) -> User:
        return User.from_json(self.http.json("GET", "/api/users/self"))

    def users(self, *, page_size: int = 100) -> Iterator[User]:
        return self._pages("/api/users", "items", User.from_json, page_size)

    def create_user(self, username: str, password: str, role: str = "member") -> User:
        body = {"username": username, "password": password, "role": role}
        return User.from_json(self.http.json("POST", "/api/users", json=body))

    def user(self, user_id: str) -> User:
        return User.from_json(self.http.json("GET", f"/api/users/{user_id}"))

    def update_user(self, user_id: str, **changes: Any) -> User:
        """`username`, `password` (with `current_password` for one's own), `role`."""
        return User.from_json(self.http.json("PATCH", f"/api/users/{user_id}", json=changes))

    def delete_user(self, user_id: str) -> None:
        self.http.request("DELETE", f"/api/users/{user_id}")

    # devices and sensors --------------------------------------------------------------------

    def devices(self, *, page_size: int = 100) -> Iterator[Device]:
        return self._pages("/api/devices", "result", Device.from_json, page_size)

    def create_device(self, name: str, description: str = "") -> Device:
        body = {"name": name, "description": description}
        return Device.from_json(self.http.json("POST", "/api/devices", json=body)["result"])

    def device(self, device_id: str) -> Device:
        return Device.from_json(self.http.json("GET", f"/api/devices/{device_id}")["result"])

    def update_device(self, device_id: str, **changes: Any) -> Device:
        answer = self.http.json("PATCH", f"/api/devices/{device_id}", json=changes)
        return Device.from_json(answer["result"])

    def delete_device(self, device_id: str) -> None:
        self.http.request("DELETE", f"/api/devices/{device_id}")

    def device_token(self, device_id: str) -> str:
        return str(self.http.json("GET", f"/api/devices/{device_id}/key")["token"])

    def rotate_device_key(self, device_id: str) -> str:
        return str(self.http.json("POST", f"/api/devices/{device_id}/key/rotate")["token"])

    def sensors(self, device_id: str, *, page_size: int = 100) -> Iterator[Sensor]:
        return self._pages(
            f"/api/devices/{device_id}/sensors", "items", Sensor.from_json, page_size
        )

    def create_sensor(
        self, device_id: str, name: str, type: str, *, unit: str | None = None, path: str = "",
        description: str = "",
    ) -> Sensor:  # fmt: skip
        mapping = {"type": type, **({"unit": unit} if unit else {})}
        body = {"name": name, "mapping": mapping, "path": path, "description": description}
        return Sensor.from_json(
            self.http.json("POST", f"/api/devices/{device_id}/sensors", json=body)
        )

    def sensor(self, device_id: str, sensor_id: str) -> Sensor:
        path = f"/api/devices/{device_id}/sensors/{sensor_id}"
        return Sensor.from_json(self.http.json("GET", path))

    def update_sensor(self, device_id: str, sensor_id: str, **changes: Any) -> Sensor:
        path = f"/api/devices/{device_id}/sensors/{sensor_id}"
        return Sensor.from_json(self.http.json("PATCH", path, json=changes))

    def delete_sensor(self, device_id: str, sensor_id: str) -> None:
        self.http.request("DELETE", f"/api/devices/{device_id}/sensors/{sensor_id}")

    # consumers ------------------------------------------------------------------------------

    def consumers(self, *, page_size: int = 100) -> Iterator[Consumer]:
        return self._pages("/api/consumers", "items", Consumer.from_json, page_size)

    def create_consumer(self, name: str, description: str = "") -> Consumer:
        body = {"name": name, "description": description}
        return Consumer.from_json(self.http.json("POST", "/api/consumers", json=body))

    def consumer(self, consumer_id: str) -> Consumer:
        return Consumer.from_json(self.http.json("GET", f"/api/consumers/{consumer_id}"))

    def update_consumer(self, consumer_id: str, **changes: Any) -> Consumer:
        path = f"/api/consumers/{consumer_id}"
        return Consumer.from_json(self.http.json("PATCH", path, json=changes))

    def delete_consumer(self, consumer_id: str) -> None:
        self.http.request("DELETE", f"/api/consumers/{consumer_id}")

    def grant(self, consumer_id: str, device_id: str, sensor_id: str) -> Consumer:
        body = {"device": device_id, "sensor": sensor_id}
        path = f"/api/consumers/{consumer_id}/sensors"
        return Consumer.from_json(self.http.json("POST", path, json=body))

    def revoke(self, consumer_id: str, device_id: str, sensor_id: str) -> Consumer:
        path = f"/api/consumers/{consumer_id}/sensors/{device_id}/{sensor_id}"
        return Consumer.from_json(self.http.json("DELETE", path))

    def consumer_token(self, consumer_id: str) -> str:
        return str(self.http.json("GET", f"/api/consumers/{consumer_id}/key")["token"])

    def rotate_consumer_key(self, consumer_id: str) -> str:
        return str(self.http.json("POST", f"/api/consumers/{consumer_id}/key/rotate")["token"])

    # bootstrap registrations ----------------------------------------------------------------

    def register_device(
        self, external_id: str, *, external_key: str | None = None, name: str | None = None,
        description: str = "", config: dict[str, Any] | None = None,
        sensors: list[dict[str, Any]] | None = None, enabled: bool = True,
    ) -> Registration:  # fmt: skip
        """Pre-register a device for bootstrap; the answer's `external_key` (generated unless
        given) is shown only here."""
        body: dict[str, Any] = {
            "external_id": external_id, "description": description, "config": config or {},
            "sensors": sensors or [], "enabled": enabled,
        }  # fmt: skip
        if external_key is not None:
            body["external_key"] = external_key
        if name is not None:
            body["name"] = name
        return Registration.from_json(self.http.json("POST", "/api/bootstrap", json=body))

    def registrations(self, *, page_size: int = 100) -> Iterator[Registration]:
        return self._pages("/api/bootstrap", "items", Registration.from_json, page_size)

    def registration(self, external_id: str) -> Registration:
        return Registration.from_json(self.http.json("GET", f"/api/bootstrap/{external_id}"))

    def update_registration(self, external_id: str, **changes: Any) -> Registration:
        """`name`, `description`, `config`, `sensors`, `enabled`."""
        path = f"/api/bootstrap/{external_id}"
        return Registration.from_json(self.http.json("PATCH", path, json=changes))

    def rotate_external_key(self, external_id: str, external_key: str | None = None) -> str:
        body = {"external_key": external_key} if external_key else None
        path = f"/api/bootstrap/{external_id}/key/rotate"
        return str(self.http.json("POST", path, json=body)["external_key"])

    def delete_registration(self, external_id: str) -> None:
        self.http.request("DELETE", f"/api/bootstrap/{external_id}")

    # device control -------------------------------------------------------------------------

    def set_config(self, device_id: str, config: Any, *, version: int | None = None) -> int:
        """Set the device's config (412 if `version` is given and not the current one); returns
        the new version. The device receives it on `devices/{id}/config` (retained)."""
        body: dict[str, Any] = {"config": config, **({"version": version} if version else {})}
        answer = self.http.json("PUT", f"/api/devices/{device_id}/config", json=body)
        return int(answer["version"])

    def config(self, device_id: str) -> dict[str, Any]:
        return dict(self.http.json("GET", f"/api/devices/{device_id}/config"))

    def state(self, device_id: str) -> dict[str, Any]:
        return dict(self.http.json("GET", f"/api/devices/{device_id}/state"))

    def send_command(self, device_id: str, name: str, payload: Any = None) -> bool:
        """Send a command; True when the device (or its session) will receive it."""
        path = f"/api/devices/{device_id}/commands/{name}"
        return bool(self.http.json("POST", path, json=payload or {})["delivered"])
