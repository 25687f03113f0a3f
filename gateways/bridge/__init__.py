"""The MQTT -> bus bridge: `python -m gateways.bridge` (see README.md in this folder)."""

from gateways.bridge.mqtt import MqttBridge
from gateways.bridge.service import Bridge, BridgeConfig, Bus
from gateways.bridge.settings import BridgeSettings

__all__ = ["Bridge", "BridgeConfig", "BridgeSettings", "Bus", "MqttBridge"]
