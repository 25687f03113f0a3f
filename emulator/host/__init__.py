"""The function host: the manifest's HTTP functions under one base URL, plus event delivery."""

from emulator.host.app import Host, create_app

__all__ = ["Host", "create_app"]
