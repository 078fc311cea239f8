"""WebSockets under uWSGI: uWSGI's handshake, then wsproto over the connection.

uWSGI's WebSocket API (``uwsgi.websocket_recv``/``websocket_send``) is not
used past the handshake: it returns a message's payload without saying
whether it was a text or a binary frame (Engine.IO v4 sends binary messages
as raw binary frames, so that must be known); it cannot send a close frame,
so an oversize message could not be refused with 1009; and in uWSGI 2.0 it
only works from the request's own greenlet, while the server writes from
another. So: ``uwsgi.websocket_handshake()`` answers the upgrade (uWSGI keeps
its own books on the response), then the connection's descriptor is
duplicated into a gevent socket and :class:`~eio_gevent._websocket.GeventWebSocket`
speaks the protocol on it, as on every other gevent server.

Imported only inside a uWSGI process, where the ``uwsgi`` module exists.
"""

from __future__ import annotations

import os
from typing import Any

import gevent.socket
import uwsgi

from eio_gevent._websocket import GeventWebSocket, open_websocket
from engineio_core.plugin.wsproto_socket import DEFAULT_CLOSE_TIMEOUT, handshake_connection

__all__ = ["accept_websocket", "can_upgrade"]


def can_upgrade() -> bool:
    """False when uWSGI's HTTP router would not pass WebSocket traffic through.

    ``--http`` starts a router in front of the workers that forwards an
    upgrade only with ``--http-websockets``; ``--http-socket`` (the worker
    speaks HTTP itself) and uwsgi-protocol sockets behind a proxy need nothing.
    """
    options = uwsgi.opt
    routed = any(key in options for key in ("http", "https"))
    return not routed or bool(options.get("http-websockets"))


def accept_websocket(
    environ: dict[str, Any],
    *,
    max_message_size: int,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> GeventWebSocket | None:
    """Answer the upgrade with uWSGI's handshake and wrap the connection.

    None, with nothing written, when the request is not a valid upgrade or
    uWSGI cannot complete the handshake (it was built without OpenSSL).
    """
    connection = handshake_connection(environ)
    if connection is None:
        return None
    try:
        uwsgi.websocket_handshake()
    except OSError:
        return None
    sock = gevent.socket.socket(fileno=os.dup(uwsgi.connection_fd()))

    def release() -> list[bytes]:
        sock.close()  # our duplicate; uWSGI closes its own descriptor
        return []

    return open_websocket(
        sock,
        connection,
        "uwsgi",
        release,
        handshake_sent=True,
        max_message_size=max_message_size,
        close_timeout=close_timeout,
    )
