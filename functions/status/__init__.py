"""The status function: what is running and whether its dependencies answer."""
