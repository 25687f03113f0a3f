"""The broker port on Mosquitto's dynamic-security plugin: one client and one role per device."""

from __future__ import annotations

import threading

from shared.broker import device_topics
from shared.broker.dynsec import DynamicSecurity, DynsecError

__all__ = ["MosquittoAdmin"]


class MosquittoAdmin:
    """`BrokerAdmin` for Mosquitto 2.x; connects lazily, once per process."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self._args = (host, port, username, password)
        self._dynsec: DynamicSecurity | None = None
        self._lock = threading.Lock()

    @property
    def dynsec(self) -> DynamicSecurity:
        if self._dynsec is None:
            with self._lock:
                if self._dynsec is None:
                    self._dynsec = DynamicSecurity(*self._args)
        return self._dynsec

    @staticmethod
    def role_of(device_id: str) -> str:
        return f"device-{device_id}"

    def register_device(self, device_id: str, password: str) -> None:
        role = self.role_of(device_id)
        topics = device_topics(device_id)
        acls = [
            {"acltype": "publishClientSend", "topic": topic, "allow": True}
            for topic in topics["publish"]
        ] + [
            {"acltype": "subscribePattern", "topic": topic, "allow": True}
            for topic in topics["subscribe"]
        ]
        try:
            self.dynsec.run("createRole", rolename=role, acls=acls)
        except DynsecError as exc:
            if "already exists" not in exc.message:
                raise
        try:
            self.dynsec.run(
                "createClient",
                username=device_id,
                password=password,
                roles=[{"rolename": role}],
            )
        except DynsecError as exc:
            if "already exists" not in exc.message:
                raise
            # replacing the password disconnects a session that used the old one
            self.dynsec.run("setClientPassword", username=device_id, password=password)

    def remove_device(self, device_id: str) -> None:
        for command, key, value in (
            ("deleteClient", "username", device_id),
            ("deleteRole", "rolename", self.role_of(device_id)),
        ):
            try:
                self.dynsec.run(command, **{key: value})
            except DynsecError as exc:
                if "not found" not in exc.message:
                    raise

    def close(self) -> None:
        if self._dynsec is not None:
            self._dynsec.close()
            self._dynsec = None
