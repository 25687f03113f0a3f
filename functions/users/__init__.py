"""The users function: sign-in and the users of an organisation."""
