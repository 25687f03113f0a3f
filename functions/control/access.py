"""Who may act on which device: user tokens of the device's organisation, checked in the directory.

A device of another organisation is answered exactly like an unknown one (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.guard import require
from shared.directory import device_key_version
from shared.errors import NotFound
from shared.http import Request
from shared.store import Store

__all__ = ["DirectoryGate"]


@dataclass(frozen=True, slots=True)
class DirectoryGate:
    """The `Gate` of `functions.control.api` on user tokens and the directory in `store`."""

    store: Store

    def user_org(self, request: Request) -> str:
        """The organisation of the caller's user token; 401/403 for anything else."""
        return require(request, kinds={"user"}).org

    def check_device(self, org: str, device_id: str) -> None:
        """NotFound unless the device exists in `org`."""
        if device_key_version(self.store, org, device_id) is None:
            raise NotFound(f"device {device_id} not found")
