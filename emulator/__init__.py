"""The Stratus local emulator: Firestore and Pub/Sub endpoints, a function host, a broker."""
