"""The notify function: alert changes carried out as webhooks, emails, commands, publishes."""
