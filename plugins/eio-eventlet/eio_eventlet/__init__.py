"""The ``eventlet`` async mode: green threads under eventlet's servers.

This module is the plugin (entry point ``engineio_core.async_modes: eventlet``).
Importing it, listing the mode and checking its availability never import
eventlet: the primitives import :mod:`eio_eventlet._green` on first use, the
WebSocket hooks :mod:`eio_eventlet._websocket`.

Requests and responses are WSGI (:mod:`engineio_core.plugin.wsgi_mode`).
WebSockets are spoken with wsproto over the connection's green socket, which
``eventlet.wsgi.server`` lends as ``environ["eventlet.input"].get_socket()``
and gunicorn's eventlet worker as ``environ["gunicorn.socket"]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from engineio_core.plugin import ModeInfo, Request, hookimpl
from engineio_core.plugin.wsgi_mode import eio_make_response, eio_translate_request

__all__ = [
    "eio_call_soon",
    "eio_can_upgrade",
    "eio_create_event",
    "eio_create_queue",
    "eio_make_response",
    "eio_mode_info",
    "eio_sleep",
    "eio_spawn",
    "eio_spawn_detached",
    "eio_translate_request",
    "eio_unavailable_reason",
    "eio_wrap_websocket",
]

_INFO = ModeInfo(
    name="eventlet",
    family="sync",
    rank=400,
    can_websocket=True,
    description="eventlet green threads; eventlet.wsgi and gunicorn -k eventlet (gunicorn < 26)",
    preemptive=False,  # greenlets: no locks around session state
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    if "gevent" in sys.modules:
        # Both replace the same parts of the standard library with their own
        # loops; a process runs on one of them.
        return "gevent is already imported in this process: use a gevent mode here"
    if find_spec("eventlet") is None:
        return "eventlet is not installed: pip install eio-eventlet"
    return None


# eio_eventlet._green imports eventlet: it is imported at the first call, not
# with this module (every Server imports it to rank the modes), and then kept
# here, since a function-level import costs 0.2 µs a call and spawn_detached
# and call_soon run for every message.
_green_module: Any = None


def _load_green() -> Any:
    global _green_module
    from eio_eventlet import _green as module

    _green_module = module
    return module


@hookimpl
def eio_spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return (_green_module or _load_green()).GreenTask(target, args, kwargs)


@hookimpl
def eio_spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    (_green_module or _load_green()).spawn_detached(target, args)


@hookimpl
def eio_call_soon(callback: Callable[..., None], args: tuple[Any, ...]) -> None:
    (_green_module or _load_green()).call_soon(callback, args)


@hookimpl
def eio_sleep(seconds: float) -> None:
    from eventlet import sleep

    sleep(seconds)


@hookimpl
def eio_create_queue() -> Any:
    from eventlet.queue import Queue

    return Queue()


@hookimpl
def eio_create_event() -> Any:
    return (_green_module or _load_green()).new_event()


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    environ = request.environ
    return isinstance(environ, dict) and (
        "gunicorn.socket" in environ
        or callable(getattr(environ.get("eventlet.input"), "get_socket", None))
    )


@hookimpl
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    from eio_eventlet._websocket import accept_websocket

    environ = request.environ
    if not isinstance(environ, dict):
        return None
    return accept_websocket(environ, max_message_size=max_message_size)
