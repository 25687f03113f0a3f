"""Core of the openapi function: the OpenAPI 3.1 document, read once from openapi.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CACHE_CONTROL", "SOURCE", "document"]

SOURCE = Path(__file__).with_name("openapi.yaml")
CACHE_CONTROL = "public, max-age=300"


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The parsed description (the same object on every call; callers must not change it)."""
    with SOURCE.open(encoding="utf-8") as source:
        loaded = yaml.safe_load(source)
    if not isinstance(loaded, dict) or not str(loaded.get("openapi", "")).startswith("3.1"):
        raise ValueError(f"{SOURCE} is not an OpenAPI 3.1 document")
    return loaded
