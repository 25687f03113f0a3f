"""The devices function: devices of an organisation, their keys and their MQTT logins."""
