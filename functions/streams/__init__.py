"""The streams function: a sensor's or a device's new stored readings as Server-Sent Events."""
