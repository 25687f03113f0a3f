"""The detectors function: detectors bound to sensors, and their derived series."""
