"""Stratus functions: one package per function, each a thin main.py over pure core logic."""
