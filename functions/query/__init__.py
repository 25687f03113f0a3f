"""The query function: a sensor's readings by time range, aggregated or raw, as JSON or CSV."""
