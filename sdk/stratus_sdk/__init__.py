"""Python client for Stratus: `AdminClient` (the management API), `DeviceClient` (bootstrap and
buffered sending), `ConsumerClient` (queries and live streams); errors are `StratusError`s."""

from stratus_sdk.admin import AdminClient
from stratus_sdk.buffer import OfflineBuffer, Rejected
from stratus_sdk.consumer import ConsumerClient
from stratus_sdk.device import DeviceClient
from stratus_sdk.errors import (
    BadRequest,
    Conflict,
    ConnectionFailed,
    NotFound,
    PermissionDenied,
    StratusError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from stratus_sdk.identity import Identity
from stratus_sdk.models import (
    BootstrapInfo,
    Consumer,
    DataPoint,
    Device,
    Org,
    Registration,
    Sensor,
    StreamEvent,
    User,
)
from stratus_sdk.readings import Reading
from stratus_sdk.retry import Backoff

__all__ = [
    "AdminClient",
    "Backoff",
    "BadRequest",
    "BootstrapInfo",
    "Conflict",
    "ConnectionFailed",
    "Consumer",
    "ConsumerClient",
    "DataPoint",
    "Device",
    "DeviceClient",
    "Identity",
    "NotFound",
    "OfflineBuffer",
    "Org",
    "PermissionDenied",
    "Reading",
    "Registration",
    "Rejected",
    "Sensor",
    "StratusError",
    "StreamEvent",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
    "User",
]

__version__ = "0.1.0"
