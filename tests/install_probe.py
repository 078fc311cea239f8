"""Run by tests/test_install_sets.py in the interpreter of a fresh virtual environment.

Prints, as JSON, what is installed there and which async mode each server
class selects. The libraries of interest are imported first, when installed:
imported or not, a library is not a mode without its plugin distribution.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any

LIBRARIES = ("aiohttp", "eventlet")
DISTRIBUTIONS = (
    "engineio-core",
    "eio-asgi",
    "pluggy",
    "wsproto",
    "aiohttp",
    "eventlet",
    "eio-aiohttp",
    "eio-eventlet",
)

for library in LIBRARIES:
    if importlib.util.find_spec(library) is not None:
        importlib.import_module(library)

import engineio_core  # noqa: E402
from engineio_core.plugin.manager import (  # noqa: E402
    ENTRY_POINT_GROUP,
    describe_modes,
    select_async_mode,
)


def attempt(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        result = call()
    except Exception as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(result, engineio_core.Server | engineio_core.AsyncServer):
        return {"mode": result.async_mode}
    return {"mode": result.name, "source": result.source, "notes": list(result.notes)}


def version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def main() -> None:
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    report = {
        "engineio_core": engineio_core.__file__,
        "versions": {name: version(name) for name in DISTRIBUTIONS},
        "imported": [name for name in LIBRARIES if name in sys.modules],
        "entry_points": sorted(
            [ep.name, ep.value, ep.dist.metadata["Name"] if ep.dist else None]
            for ep in entry_points
        ),
        "Server": attempt(engineio_core.Server),
        "AsyncServer": attempt(engineio_core.AsyncServer),
        "selects": {
            "sync": attempt(lambda: select_async_mode("sync")),
            "asyncio": attempt(lambda: select_async_mode("asyncio")),
            "eventlet": attempt(lambda: select_async_mode("sync", "eventlet")),
            "aiohttp": attempt(lambda: select_async_mode("asyncio", "aiohttp")),
        },
        "modes": [dataclasses.asdict(candidate) for candidate in describe_modes()],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
