"""The ``starlette`` async mode: ``eio.attach(app)`` on a Starlette or FastAPI app.

An example of a third-party plugin, written only against engineio-core's
public plugin API (``engineio_core.plugin`` and its public modules). It adds
Engine.IO routes to an existing app instead of wrapping the app in ASGIApp,
so the app's own middleware, routing and lifespan stay in charge.

Importing this module does not import Starlette: the hooks that need it
import it on first use.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from engineio_core.plugin import ModeInfo, Request, Response, hookimpl
from engineio_core.plugin.asyncio_mode import (
    eio_create_event,
    eio_create_queue,
    eio_sleep,
    eio_spawn,
)

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

# Below asgi (0): installing this plugin never changes the mode of an app that
# did not ask for it by name; attach() apps pass async_mode="starlette".
_INFO = ModeInfo(
    name="starlette",
    family="asyncio",
    rank=-50,
    can_websocket=True,
    description="eio.attach(app) routes on a Starlette or FastAPI application",
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    if importlib.util.find_spec("starlette") is None:
        return "starlette is not installed: pip install starlette"
    return None


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    from eio_starlette._glue import translate

    return translate(args[0])


@hookimpl
async def eio_make_response(response: Response, request: Request) -> Any:
    from eio_starlette._glue import make_response

    return await make_response(response, request)


@hookimpl
async def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    from eio_starlette._glue import accept_websocket

    return await accept_websocket(request, max_message_size)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    return True


@hookimpl
def eio_attach(app: Any, server: Any, path: str) -> None:
    from eio_starlette._glue import attach

    attach(app, server, path)
