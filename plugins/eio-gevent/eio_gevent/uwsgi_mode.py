"""The ``gevent_uwsgi`` async mode: greenlets in uWSGI's gevent loop.

This module is the plugin (entry point ``engineio_core.async_modes:
gevent_uwsgi``). The mode is available only inside a uWSGI process running
its gevent loop (``uwsgi --gevent N``), the only place the ``uwsgi`` module
exists; the check reads ``sys.modules`` and imports neither uwsgi nor gevent.

Primitives are the gevent mode's (:mod:`eio_gevent.gevent_mode`), requests and responses
WSGI (:mod:`engineio_core.plugin.wsgi_mode`); WebSockets are answered with
uWSGI's handshake and then spoken with wsproto (:mod:`eio_gevent._uwsgi`).
"""

from __future__ import annotations

import sys
from typing import Any

from eio_gevent._availability import gevent_problem

# The same greenlet primitives as the gevent mode: pluggy finds imported hooks too.
from eio_gevent.gevent_mode import (
    eio_call_soon,
    eio_create_event,
    eio_create_queue,
    eio_sleep,
    eio_spawn,
    eio_spawn_detached,
)
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
    name="gevent_uwsgi",
    family="sync",
    rank=350,
    can_websocket=True,
    description="gevent greenlets inside uWSGI (uwsgi --gevent N); uWSGI's WebSocket handshake",
    preemptive=False,  # greenlets: no locks around session state
)


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    uwsgi = sys.modules.get("uwsgi")
    if uwsgi is None:
        return (
            "not running inside uWSGI (the uwsgi module exists only in a uWSGI process): "
            "start the app with uwsgi --gevent 1000 ..."
        )
    loop = getattr(uwsgi, "loop", None)
    if isinstance(loop, bytes):
        loop = loop.decode("latin-1")
    if loop != "gevent":
        return f"uWSGI is running the {loop or 'default'} loop, not gevent's: add --gevent 1000"
    return gevent_problem()


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    from eio_gevent._uwsgi import can_upgrade

    return can_upgrade()


@hookimpl
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    from eio_gevent._uwsgi import accept_websocket

    environ = request.environ
    if not isinstance(environ, dict):
        return None
    return accept_websocket(environ, max_message_size=max_message_size)
