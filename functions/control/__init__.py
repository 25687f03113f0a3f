"""The control function: device config (versioned, retained on MQTT), state and commands."""
