"""A Pub/Sub-compatible gRPC emulator on SQLite: topics, pull, streaming pull, push, dead letters,
schemas, exactly-once delivery, snapshots and seek.

Run it with `python -m emulator.pubsub --port 8185 --data-dir DIR`; point any official client at it
with `PUBSUB_EMULATOR_HOST=127.0.0.1:8185`.
"""
