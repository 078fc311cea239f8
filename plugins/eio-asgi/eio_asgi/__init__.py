"""The ``asgi`` async mode: an ``AsyncServer`` behind any ASGI 3 server.

This module is the plugin (entry point ``engineio_core.async_modes: asgi``):
importing it loads no framework, as there is none; the ASGI application
class lives in :mod:`eio_asgi._app` and is exported here as ``ASGIApp``.
"""

from __future__ import annotations

from eio_asgi import _translate
from eio_asgi._app import ASGIApp
from eio_asgi._websocket import ASGIWebSocket
from engineio_core.plugin.asyncio_mode import (
    eio_create_event,
    eio_create_queue,
    eio_sleep,
    eio_spawn,
)
from engineio_core.plugin.hookspecs import hookimpl
from engineio_core.plugin.types import ModeInfo
from engineio_core.protocol.http import Request

__all__ = [
    "ASGIApp",
    "eio_create_event",
    "eio_create_queue",
    "eio_make_response",
    "eio_mode_info",
    "eio_sleep",
    "eio_spawn",
    "eio_translate_request",
    "eio_unavailable_reason",
    "eio_wrap_websocket",
]

_INFO = ModeInfo(
    name="asgi",
    family="asyncio",
    rank=0,
    can_websocket=True,
    description="any ASGI 3 server: uvicorn, hypercorn, daphne, gunicorn + uvicorn worker",
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    return None


# The translation functions are the hooks themselves: no wrapper call per request.
# (make_response's coroutine is what handle_request awaits.)
eio_translate_request = hookimpl(_translate.translate_request)
eio_make_response = hookimpl(_translate.make_response)


@hookimpl
async def eio_wrap_websocket(request: Request, max_message_size: int) -> ASGIWebSocket | None:
    scope, receive, send = request.native
    if scope["type"] != "websocket":
        return None
    return await ASGIWebSocket.accept(scope, receive, send, max_message_size)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    return True
