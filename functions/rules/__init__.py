"""The rules function: an organisation's alerting rules (condition language in shared/rules)."""
