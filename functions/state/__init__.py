"""The state function: the newest state each device reported, and its acknowledged config."""
