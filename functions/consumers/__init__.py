"""The consumers function: applications that read data, their grants and read-only keys."""
