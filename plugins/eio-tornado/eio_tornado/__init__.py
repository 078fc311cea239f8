"""The ``tornado`` async mode: an ``AsyncServer`` behind a ``tornado.web.Application``.

This module is the plugin (entry point ``engineio_core.async_modes: tornado``).
It must import fast and without tornado: listing or ranking the installed
modes must not load a framework nobody uses. tornado is imported by
:mod:`eio_tornado._handler` and :mod:`eio_tornado._websocket`, which load on
first use.

Usage::

    eio = engineio_core.AsyncServer(async_mode="tornado")
    app = tornado.web.Application([(r"/engine.io/", get_tornado_handler(eio))])
    app.listen(5000)
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from eio_tornado._translate import make_response, translate_request
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
    from eio_tornado._handler import EngineIOHandler
    from eio_tornado._websocket import TornadoWebSocket

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
    "get_tornado_handler",
]

_INFO = ModeInfo(
    name="tornado",
    family="asyncio",
    rank=300,
    can_websocket=True,
    description="tornado.web: route get_tornado_handler(eio) (or eio.attach(app)), app.listen()",
)


def get_tornado_handler(engineio_server: Any) -> type[EngineIOHandler]:
    """The ``tornado.web.RequestHandler`` class that serves ``engineio_server``.

    Route it at the Engine.IO path::

        app = tornado.web.Application([(r"/engine.io/", get_tornado_handler(eio))])

    The class answers every HTTP method and WebSocket upgrades; each call
    returns a new class bound to that server.
    """
    from eio_tornado._handler import handler_for

    return handler_for(engineio_server)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    if importlib.util.find_spec("tornado") is None:
        return "tornado is not installed: pip install tornado"
    return None


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    return translate_request(args)


@hookimpl
def eio_make_response(response: Response, request: Request) -> None:
    make_response(response, request)


@hookimpl
async def eio_wrap_websocket(request: Request, max_message_size: int) -> TornadoWebSocket | None:
    handler: EngineIOHandler = request.native[0]
    return await handler.eio_accept_websocket(max_message_size)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    return True


@hookimpl
def eio_attach(app: Any, server: Any, path: str) -> None:
    from eio_tornado._handler import attach

    attach(app, server, path)
