"""The ingest function: devices post readings over HTTP; they go to the bus as raw telemetry."""
