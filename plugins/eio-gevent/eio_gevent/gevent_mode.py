"""The ``gevent`` async mode: greenlets under gevent's servers.

This module is the plugin (entry point ``engineio_core.async_modes: gevent``).
Importing it, listing the mode and checking its availability never import
gevent: the primitives import :mod:`eio_gevent._green` on first use, the
WebSocket hooks :mod:`eio_gevent._websocket`.

Requests and responses are WSGI (:mod:`engineio_core.plugin.wsgi_mode`);
WebSockets are wsproto over the connection's gevent socket on every server
(see :mod:`eio_gevent._websocket`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eio_gevent._availability import gevent_problem
from engineio_core.plugin import ModeInfo, Request, Response, hookimpl, wsgi_mode
from engineio_core.plugin.wsgi_mode import eio_translate_request

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
    name="gevent",
    family="sync",
    rank=300,
    can_websocket=True,
    description="gevent greenlets; pywsgi (+ gevent-websocket), gunicorn -k gevent",
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    return gevent_problem()


@hookimpl
def eio_spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from eio_gevent._green import spawn

    return spawn(target, args, kwargs)


@hookimpl
def eio_spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    from eio_gevent._green import spawn_detached

    spawn_detached(target, args)


@hookimpl
def eio_call_soon(callback: Callable[..., None], args: tuple[Any, ...]) -> None:
    from eio_gevent._green import call_soon

    call_soon(callback, args)


@hookimpl
def eio_sleep(seconds: float) -> None:
    from eio_gevent._green import sleep

    sleep(seconds)


@hookimpl
def eio_create_queue() -> Any:
    from eio_gevent._green import new_queue

    return new_queue()


@hookimpl
def eio_create_event() -> Any:
    from eio_gevent._green import new_event

    return new_event()


@hookimpl
def eio_make_response(response: Response, request: Request) -> Any:
    environ = request.environ
    if isinstance(environ, dict) and environ.get("wsgi.websocket") is not None:
        # gevent-websocket's handler has answered 101 already: no HTTP error now.
        from eio_gevent._websocket import refuse_upgraded

        return refuse_upgraded(environ, response)
    if isinstance(environ, dict) and "gunicorn.socket" not in environ:
        from eio_gevent._websocket import send_without_delay

        send_without_delay(environ)
    return wsgi_mode.eio_make_response(response, request)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    from eio_gevent._websocket import can_upgrade

    environ = request.environ
    return isinstance(environ, dict) and can_upgrade(environ)


@hookimpl
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    from eio_gevent._websocket import accept_websocket

    environ = request.environ
    if not isinstance(environ, dict):
        return None
    return accept_websocket(environ, max_message_size=max_message_size)
