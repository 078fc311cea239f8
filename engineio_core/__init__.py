"""engineio-core: an Engine.IO server with a sans-IO core and pluggable async modes."""

from __future__ import annotations

import importlib
from typing import Any

from engineio_core.async_server import AsyncServer
from engineio_core.exceptions import (
    AsyncModeError,
    AsyncModeNotInstalled,
    AsyncModeUnavailable,
    AsyncModeWrongFamily,
    ConnectionRefusedError,
    EngineIOError,
    PluginError,
)
from engineio_core.plugin import register_mode
from engineio_core.protocol.errors import DisconnectReason
from engineio_core.server import Server
from engineio_core.wsgi import Middleware, WSGIApp

__version__ = "0.1.0"

__all__ = [
    "AsyncModeError",
    "AsyncModeNotInstalled",
    "AsyncModeUnavailable",
    "AsyncModeWrongFamily",
    "AsyncServer",
    "ConnectionRefusedError",
    "DisconnectReason",
    "EngineIOError",
    "Middleware",
    "PluginError",
    "Server",
    "WSGIApp",
    "__version__",
    "register_mode",
]


def __getattr__(name: str) -> Any:
    # Names from the seed's API that now live in mode plugins: import on use,
    # with an error that says what to install when the plugin is missing.
    if name in _PLUGIN_NAMES:
        module, distribution = _PLUGIN_NAMES[name]
        try:
            plugin = importlib.import_module(module)
        except ImportError as exc:
            raise ImportError(
                f"engineio_core.{name} is provided by the {distribution} distribution: "
                f"pip install {distribution}"
            ) from exc
        return getattr(plugin, name)
    raise AttributeError(f"module 'engineio_core' has no attribute {name!r}")


_PLUGIN_NAMES = {
    "ASGIApp": ("eio_asgi", "eio-asgi"),
    "get_tornado_handler": ("eio_tornado", "eio-tornado"),
}
