"""The WebSocket ingest gateway: `python -m gateways.websocket` (see README.md in this folder)."""
