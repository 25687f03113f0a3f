"""The broker port on Mosquitto's dynamic security: one pinned account and one role per device."""

from __future__ import annotations

import threading

from shared.broker import device_acls
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
        """Create or refresh the device's account: its own topics only, pinned to the client
        id equal to its id (no other client id logs in with it, and no other account's login
        reaches its session: the device listeners replace a client id by the username)."""
        role = self.role_of(device_id)
        acls = device_acls(device_id)
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
                clientid=device_id,
                roles=[{"rolename": role}],
            )
        except DynsecError as exc:
            if "already exists" not in exc.message:
                raise
            # replacing the password disconnects a session that used the old one
            self.dynsec.run("setClientPassword", username=device_id, password=password)
            self.dynsec.run("setClientId", username=device_id, clientid=device_id)

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
