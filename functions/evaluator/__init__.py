"""The evaluator function: rules over readings and anomaly events, opening and resolving alerts."""
