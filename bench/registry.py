"""The scenario registry: every runnable scenario by name, and plug-ins as `package.module:Class`.

To add a scenario: subclass `bench.scenario.Scenario` (or `AdminScenario`) in a module of
`MODULES`, give it a `name` and a `description`, and decorate it with `@register`; a new module of
scenarios is one more entry in `MODULES`. The built-in modules are imported on first use, so the
registry imports none of them at import time (they import the registry).
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from bench.scenario import Scenario

__all__ = ["MODULES", "UnknownScenario", "get", "register", "scenarios"]

# the modules whose scenarios `python -m bench` knows by name
MODULES = ("bench.scenarios", "bench.mqtt_scenarios")

_registered: dict[str, type[Scenario]] = {}
_loaded = False

S = TypeVar("S", bound=type[Scenario])


class UnknownScenario(ValueError):
    """No scenario by that name, or the plug-in named is not a Scenario subclass."""


def register(cls: S) -> S:
    """Class decorator: make a scenario available by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    known = _registered.get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"scenario {cls.name!r}: both {known.__qualname__} and {cls.__qualname__}")
    _registered[cls.name] = cls
    return cls


def scenarios() -> dict[str, type[Scenario]]:
    """Every registered scenario by name, in name order."""
    global _loaded
    if not _loaded:
        for module in MODULES:
            importlib.import_module(module)
        _loaded = True
    return dict(sorted(_registered.items()))


def get(name: str) -> Scenario:
    """A new instance of the scenario `name`, or of the plug-in class `package.module:Class`."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, Scenario)):
            raise UnknownScenario(f"{name}: not a Scenario subclass")
        return cls()
    known = scenarios()
    if name not in known:
        raise UnknownScenario(f"unknown scenario {name!r}; known: {', '.join(known)}")
    return known[name]()
