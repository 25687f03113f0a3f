"""A simulated fleet for demos, tests and benchmarks (`python -m stratus_sdk.simulate`)."""

from stratus_sdk.simulate.fleet import Fleet, FleetOptions, SimulatedDevice
from stratus_sdk.simulate.signals import SENSORS, DeviceSignals, Route

__all__ = ["SENSORS", "DeviceSignals", "Fleet", "FleetOptions", "Route", "SimulatedDevice"]
