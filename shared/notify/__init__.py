"""Notifications of alert changes: signed webhooks (the signature scheme receivers verify)."""
