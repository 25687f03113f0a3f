"""The scorer function: detectors score readings as they arrive (shared/inference)."""
