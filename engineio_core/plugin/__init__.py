"""The public API for writing async-mode plugins.

Everything a plugin needs is importable from here (or from
``engineio_core.testing`` for its tests); ``docs/writing-a-plugin.md`` walks
through a complete plugin. Modules of this package whose names do not start
with an underscore are public too: :mod:`~engineio_core.plugin.asyncio_mode`
and :mod:`~engineio_core.plugin.wsgi_mode` hold hook implementations that
asyncio and WSGI modes re-export, :mod:`~engineio_core.plugin.hookspecs` the
documented hook specs.
"""

from __future__ import annotations

from engineio_core.plugin.hookspecs import (
    ASYNC_HOOKS,
    OPTIONAL_HOOKS,
    PROJECT_NAME,
    REQUIRED_HOOKS,
    hookimpl,
    hookspec,
)
from engineio_core.plugin.manager import ENTRY_POINT_GROUP, register_mode
from engineio_core.plugin.types import (
    AsyncEvent,
    AsyncWebSocket,
    Event,
    Family,
    MessageTooLarge,
    ModeInfo,
    Queue,
    WebSocket,
    WebSocketClosed,
)
from engineio_core.protocol.http import (
    Request,
    Response,
    add_environ_headers,
    parse_query,
    polling_handshake,
    polling_sid,
)

__all__ = [
    "ASYNC_HOOKS",
    "ENTRY_POINT_GROUP",
    "OPTIONAL_HOOKS",
    "PROJECT_NAME",
    "REQUIRED_HOOKS",
    "AsyncEvent",
    "AsyncWebSocket",
    "Event",
    "Family",
    "MessageTooLarge",
    "ModeInfo",
    "Queue",
    "Request",
    "Response",
    "WebSocket",
    "WebSocketClosed",
    "add_environ_headers",
    "hookimpl",
    "hookspec",
    "parse_query",
    "polling_handshake",
    "polling_sid",
    "register_mode",
]
