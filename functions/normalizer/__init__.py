"""The normalizer function: raw telemetry (reference, SenML, MQTT batches) to typed readings."""
