"""The bootstrap function: devices fetch their credentials and configuration by external id."""
