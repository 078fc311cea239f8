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
    preemptive=False,  # greenlets: no locks around session state
)


# eio_gevent._green and _websocket import gevent: they are imported at the first
# call, not with this module (every Server imports it to rank the modes), and
# then kept here, since a function-level import costs 0.2 µs a call and
# spawn_detached, call_soon and make_response run for every message or request.
_green_module: Any = None
_websocket_module: Any = None


def _load_green() -> Any:
    global _green_module
    from eio_gevent import _green as module

    _green_module = module
    return module


def _load_websocket() -> Any:
    global _websocket_module
    from eio_gevent import _websocket as module

    _websocket_module = module
    return module


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    return gevent_problem()


@hookimpl
def eio_spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return (_green_module or _load_green()).spawn(target, args, kwargs)


@hookimpl
def eio_spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    # A raw greenlet (no Greenlet object, links or spawn-tree bookkeeping), reused.
    (_green_module or _load_green()).spawn_detached(target, args)


@hookimpl
def eio_call_soon(callback: Callable[..., None], args: tuple[Any, ...]) -> None:
    # In the hub once the greenlets ready now have run; as above, for every reply.
    (_green_module or _load_green()).gevent.get_hub().loop.run_callback(callback, *args)


@hookimpl
def eio_sleep(seconds: float) -> None:
    (_green_module or _load_green()).sleep(seconds)


@hookimpl
def eio_create_queue() -> Any:
    return (_green_module or _load_green()).new_queue()


@hookimpl
def eio_create_event() -> Any:
    return (_green_module or _load_green()).new_event()


@hookimpl
def eio_make_response(response: Response, request: Request) -> Any:
    environ = request.environ
    if isinstance(environ, dict) and environ.get("wsgi.websocket") is not None:
        # gevent-websocket's handler has answered 101 already: no HTTP error now.
        return (_websocket_module or _load_websocket()).refuse_upgraded(environ, response)
    if isinstance(environ, dict) and "gunicorn.socket" not in environ:
        (_websocket_module or _load_websocket()).send_without_delay(environ)
    return wsgi_mode.eio_make_response(response, request)


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    environ = request.environ
    return isinstance(environ, dict) and (_websocket_module or _load_websocket()).can_upgrade(
        environ
    )


@hookimpl
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    environ = request.environ
    if not isinstance(environ, dict):
        return None
    return (_websocket_module or _load_websocket()).accept_websocket(
        environ, max_message_size=max_message_size
    )
