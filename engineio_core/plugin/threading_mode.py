"""The built-in ``threading`` async mode: one OS thread per task.

Registered through engineio-core's own entry point, like any installed mode.
Requests and responses are WSGI (see :mod:`engineio_core.plugin.wsgi_mode`);
WebSockets are spoken with wsproto over the raw socket that werkzeug's
development server and gunicorn's sync/gthread workers put in the environ
(see :mod:`engineio_core.plugin.wsproto_socket`, imported on first use).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from engineio_core.plugin.hookspecs import hookimpl
from engineio_core.plugin.types import ModeInfo
from engineio_core.plugin.wsgi_mode import eio_make_response, eio_translate_request
from engineio_core.protocol.http import Request

__all__ = [
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
    name="threading",
    family="sync",
    rank=0,
    can_websocket=True,
    description="OS threads; WSGI; WebSocket on werkzeug and gunicorn (sync, gthread)",
)
# Same keys as wsproto_socket.RAW_SOCKET_KEYS, kept here so that answering a
# handshake does not import wsproto.
_RAW_SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket")


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    return None


@hookimpl
def eio_spawn(
    target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
    thread.start()
    return thread


@hookimpl
def eio_sleep(seconds: float) -> None:
    time.sleep(seconds)


@hookimpl
def eio_create_queue() -> queue.Queue[Any]:
    return queue.Queue()


@hookimpl
def eio_create_event() -> threading.Event:
    return threading.Event()


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    environ = request.environ
    return isinstance(environ, dict) and any(key in environ for key in _RAW_SOCKET_KEYS)


@hookimpl
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    from engineio_core.plugin.wsproto_socket import accept_websocket

    environ = request.environ
    if not isinstance(environ, dict):
        return None
    return accept_websocket(environ, max_message_size=max_message_size)
