"""The writer function: normalized readings into per-sensor, per-hour chunk documents."""
