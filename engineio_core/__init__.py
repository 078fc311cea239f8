"""engineio-core: an Engine.IO server with a sans-IO core and pluggable async modes."""

from __future__ import annotations

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
