"""The ``sanic`` async mode: an ``AsyncServer`` on a Sanic application.

This module is the plugin (entry point ``engineio_core.async_modes: sanic``).
It must import fast and must not import Sanic: mode discovery imports every
installed plugin. Sanic is imported by the private modules, which the hooks
below load the first time a server in this mode uses them.

Use::

    eio = engineio_core.AsyncServer(async_mode="sanic")
    app = Sanic("my_app")
    eio.attach(app)  # routes /engine.io/ (HTTP and WebSocket) to eio
    app.run()
"""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from engineio_core.plugin.asyncio_mode import (
    eio_create_event,
    eio_create_queue,
    eio_sleep,
    eio_spawn,
)
from engineio_core.plugin.hookspecs import hookimpl
from engineio_core.plugin.types import ModeInfo
from engineio_core.protocol.http import Request, Response

if TYPE_CHECKING:
    from sanic.response import HTTPResponse

    from eio_sanic._asgi import ASGIWebSocket
    from eio_sanic._websocket import SanicWebSocket

__all__ = [
    "eio_attach",
    "eio_can_upgrade",
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
    name="sanic",
    family="asyncio",
    rank=350,
    can_websocket=True,
    description="Sanic's own server: AsyncServer.attach(app) adds the routes",
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    if importlib.util.find_spec("sanic") is None:
        return "sanic is not installed: pip install sanic"
    return None


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    from eio_sanic import _translate

    return _translate.translate_request(args)


@hookimpl
def eio_make_response(response: Response, request: Request) -> Awaitable[HTTPResponse | None]:
    from eio_sanic import _translate

    # The coroutine itself, for handle_request to await: no wrapper per request.
    return _translate.make_response(response, request)


@hookimpl
async def eio_wrap_websocket(
    request: Request, max_message_size: int
) -> SanicWebSocket | ASGIWebSocket | None:
    from eio_sanic import _websocket

    return await _websocket.accept(request.native[0], max_message_size)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    from eio_sanic import _websocket

    return _websocket.can_accept(request.native[0])


@hookimpl
def eio_attach(app: Any, server: Any, path: str) -> None:
    from eio_sanic import _attach

    _attach.attach(app, server, path)
