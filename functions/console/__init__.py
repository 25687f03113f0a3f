"""The console function: the web console operators use, served at /console/ like any function."""
