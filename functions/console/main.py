"""Wiring of the console function: its files read on the first request, its router, the security
headers on every answer, its entry points."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from functions.console.api import build_router
from functions.console.headers import secure
from functions.console.service import Catalogue
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_HERE = Path(__file__).resolve().parent
_catalogue = cache(lambda: Catalogue.load(_HERE / "static", _HERE / "vendor"))

app, http, main = http_function("console", build_router(_catalogue), middlewares=(secure,))
