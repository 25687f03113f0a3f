"""Where device control documents live: a device's config and its last reported state.

The control function (HTTP) writes the config and reads both; the state function (bus) writes the
state and the config version the device acknowledged.
"""

from __future__ import annotations

__all__ = ["config_path", "state_path"]


def config_path(org: str, device_id: str) -> str:
    """The device's config document: version, config, acknowledged_version."""
    return f"orgs/{org}/devices/{device_id}/control/config"


def state_path(org: str, device_id: str) -> str:
    """The device's last reported state document."""
    return f"orgs/{org}/devices/{device_id}/control/state"
