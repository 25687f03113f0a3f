"""The Stratus local emulator: Firestore- and Pub/Sub-compatible endpoints, a function host, a broker."""
