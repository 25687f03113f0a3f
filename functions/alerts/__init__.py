"""The alerts function: alerts of an organisation, their lifecycle by hand, and a live stream."""
