"""Long-running connection holders (the MQTT bridge, WebSocket ingest), next to the functions."""
