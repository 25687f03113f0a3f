"""The deadman function: clock ticks evaluate rules on silence (`deadman(10m)`)."""
