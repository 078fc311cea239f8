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


#: What a refused request's unread body may cost after its answer: the bytes
#: read and the seconds waited for them. A client that declares a body and
#: never sends it holds one of uWSGI's async cores this long, no more.
DRAIN_LIMIT = 16 * 1024 * 1024
DRAIN_SECONDS = 2.0
_DRAIN_CHUNK = 64 * 1024


class _DrainingBody:
    """A refused request's response body that reads the request body once sent.

    uWSGI requires the app to consume the request body ("Things to know"):
    when a worker closes a request whose body it left unread (an oversize
    POST is answered 413 from its Content-Length alone), its HTTP router gets
    a reset while still forwarding that body, and drops the client's
    connection, sometimes before the client has read the answer. uWSGI calls
    ``close()`` after the response is written, so the answer is never delayed.
    """

    __slots__ = ("_body", "_environ")

    def __init__(self, body: list[bytes], environ: dict[str, Any]) -> None:
        self._body = body
        self._environ = environ

    def __iter__(self) -> Any:
        return iter(self._body)

    def close(self) -> None:
        drain_request_body(self._environ)


def drain_request_body(
    environ: dict[str, Any], limit: int = DRAIN_LIMIT, seconds: float = DRAIN_SECONDS
) -> int:
    """Read and drop what is left of the request body; the number of bytes read.

    uWSGI's ``wsgi.input`` stops at the declared Content-Length, so a body
    read in full costs one empty read. Stops after ``limit`` bytes, after
    ``seconds``, or when the client goes.
    """
    import gevent

    stream = environ.get("wsgi.input")
    if stream is None:
        return 0
    drained = 0
    with gevent.Timeout(seconds, False):
        try:
            while drained < limit:
                data = stream.read(min(_DRAIN_CHUNK, limit - drained))
                if not data:
                    break
                drained += len(data)
        except OSError:  # the client left: nothing is left to drain
            pass
    return drained


@hookimpl
def eio_make_response(response: Response, request: Request) -> Any:
    body = wsgi_mode.eio_make_response(response, request)
    # Only a refusal can leave a body unread: a served POST reads all of it.
    if response.status >= 400 and request.content_length:
        environ = request.environ
        if isinstance(environ, dict):
            return _DrainingBody(body, environ)
    return body


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
