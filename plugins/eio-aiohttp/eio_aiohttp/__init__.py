"""The ``aiohttp`` async mode: an ``AsyncServer`` routed inside an ``aiohttp.web.Application``.

This module is the plugin (entry point ``engineio_core.async_modes: aiohttp``).
It must import fast and without aiohttp: listing or ranking the installed
modes must not load a framework nobody uses. aiohttp is imported by the
private modules below, which the hooks load on first use.

Usage::

    eio = engineio_core.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    eio.attach(app)
    web.run_app(app)
"""

from __future__ import annotations

import importlib.util
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
    from aiohttp import web

    from eio_aiohttp._websocket import AiohttpWebSocket

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
    name="aiohttp",
    family="asyncio",
    rank=400,
    can_websocket=True,
    description="aiohttp.web: eio.attach(app), then web.run_app(app)",
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    if importlib.util.find_spec("aiohttp") is None:
        return "aiohttp is not installed: pip install aiohttp"
    return None


# eio_aiohttp._translate imports aiohttp: it is imported at the first request,
# not with this module (every Server imports it to rank the modes), and then
# kept here, since a function-level import costs 0.2 µs a call.
_translate_module: Any = None


def _load_translate() -> Any:
    global _translate_module
    from eio_aiohttp import _translate as module

    _translate_module = module
    return module


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    return (_translate_module or _load_translate()).translate_request(args)  # type: ignore[no-any-return]


@hookimpl
def eio_make_response(response: Response, request: Request) -> web.Response:
    return (_translate_module or _load_translate()).make_response(response)  # type: ignore[no-any-return]


@hookimpl
async def eio_wrap_websocket(request: Request, max_message_size: int) -> AiohttpWebSocket | None:
    from eio_aiohttp._websocket import AiohttpWebSocket

    return await AiohttpWebSocket.accept(request.native[0], max_message_size)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    # aiohttp serves WebSockets on any request it handles.
    return True


@hookimpl
def eio_attach(app: Any, server: Any, path: str) -> None:
    from eio_aiohttp._attach import attach

    attach(app, server, path)
