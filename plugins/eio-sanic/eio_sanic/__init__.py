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


# eio_sanic._translate and _websocket import Sanic: they are imported at the
# first request, not with this module (every Server imports it to rank the
# modes), and then kept here, since a function-level import costs 0.2 µs a call.
_translate_module: Any = None
_websocket_module: Any = None


def _load_translate() -> Any:
    global _translate_module
    from eio_sanic import _translate as module

    _translate_module = module
    return module


def _load_websocket() -> Any:
    global _websocket_module
    from eio_sanic import _websocket as module

    _websocket_module = module
    return module


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    return (_translate_module or _load_translate()).translate_request(args)  # type: ignore[no-any-return]


@hookimpl
def eio_make_response(response: Response, request: Request) -> Awaitable[HTTPResponse | None]:
    # The coroutine itself, for handle_request to await: no wrapper per request.
    return (_translate_module or _load_translate()).make_response(response, request)  # type: ignore[no-any-return]


@hookimpl
async def eio_wrap_websocket(
    request: Request, max_message_size: int
) -> SanicWebSocket | ASGIWebSocket | None:
    websocket = _websocket_module or _load_websocket()
    accepted: SanicWebSocket | ASGIWebSocket | None = await websocket.accept(
        request.native[0], max_message_size
    )
    return accepted


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    return (_websocket_module or _load_websocket()).can_accept(request.native[0])  # type: ignore[no-any-return]


@hookimpl
def eio_attach(app: Any, server: Any, path: str) -> None:
    from eio_sanic import _attach

    _attach.attach(app, server, path)
