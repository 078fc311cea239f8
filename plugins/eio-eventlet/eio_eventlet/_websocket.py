"""WebSockets under eventlet: wsproto over the connection's green socket.

Both servers of this mode lend the connection's socket to the application:
``eventlet.wsgi.server`` as ``environ["eventlet.input"].get_socket()``,
gunicorn's eventlet worker as ``environ["gunicorn.socket"]``. The core's
:class:`~engineio_core.plugin.wsproto_socket.WsprotoWebSocket` speaks the
protocol; :class:`EventletWebSocket` gives it green locks and events and waits
for data through eventlet's hub, so a blocked receive only parks its green
thread.

Handing the connection back (see :meth:`EventletWebSocket.response`):
eventlet.wsgi writes nothing more once ``eventlet.wsgi.WSGI_LOCAL.already_handled``
is set (the flag ``eventlet.websocket`` uses; eventlet < 0.30.3 had an
``ALREADY_HANDLED`` marker to return instead); gunicorn's async workers close
the connection without writing when the application raises ``StopIteration``.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import eventlet.wsgi
from eventlet.hubs import trampoline
from wsproto.events import AcceptConnection

from eio_eventlet._green import new_event, new_lock
from engineio_core.plugin.wsproto_socket import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    WsprotoWebSocket,
    handshake_connection,
    read_ahead,
)

__all__ = ["EventletWebSocket", "accept_websocket", "find_socket"]


class _WaitTimeout(Exception):
    """Thrown into a green thread whose wait on the socket timed out."""


def find_socket(environ: dict[str, Any]) -> tuple[Any, Any, str] | None:
    """The connection's socket, the reader holding its read-ahead, and the server kind."""
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        return sock, environ.get("wsgi.input"), "gunicorn"
    request_input = environ.get("eventlet.input")
    get_socket = getattr(request_input, "get_socket", None)
    if callable(get_socket):
        return get_socket(), getattr(request_input, "rfile", None), "eventlet.wsgi"
    return None


def accept_websocket(
    environ: dict[str, Any],
    *,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> EventletWebSocket | None:
    """Accept the WebSocket this request asks for on the server's green socket.

    None, with nothing written, when there is no socket or the request is not
    a valid upgrade.
    """
    found = find_socket(environ)
    if found is None:
        return None
    sock, stream, kind = found
    connection = handshake_connection(environ)
    if connection is None:
        return None
    buffered = read_ahead(stream, sock, kind)
    websocket = EventletWebSocket(
        sock, connection, kind, max_message_size=max_message_size, close_timeout=close_timeout
    )
    try:
        sock.sendall(connection.send(AcceptConnection()))
    except OSError:
        websocket.close()
        return websocket
    set_idle = environ.get("eventlet.set_idle")
    if callable(set_idle):
        # As eventlet.websocket does: a graceful stop of eventlet.wsgi may
        # close this connection instead of waiting for it to end.
        set_idle()
    if buffered:
        websocket.feed(buffered)
    return websocket


class EventletWebSocket(WsprotoWebSocket):
    """:class:`WsprotoWebSocket` on a green socket, with green locks and waits."""

    def _new_lock(self) -> Any:
        return new_lock()

    def _new_event(self) -> Any:
        return new_event()

    def _nowait_sender(self) -> Callable[[bytes], int] | None:
        # A green socket's ``fd`` is the real, non-blocking socket: sending on
        # it never parks the green thread. TLS has to go through the green socket.
        raw = getattr(self.sock, "fd", None)
        if raw is None or isinstance(raw, ssl.SSLSocket) or isinstance(self.sock, ssl.SSLSocket):
            return None
        send: Callable[[bytes], int] = raw.send
        return send

    def _wait_readable(self, deadline: float | None) -> bool:
        if self._done.is_set():
            return True
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            trampoline(self.sock, read=True, timeout=timeout, timeout_exc=_WaitTimeout)
        except _WaitTimeout:
            return False
        except (OSError, ValueError):
            return True  # the socket is gone: the recv() that follows says so
        return True

    def _wait_writable(self, deadline: float) -> bool:
        timeout = max(0.0, deadline - time.monotonic())
        try:
            trampoline(self.sock, write=True, timeout=timeout, timeout_exc=_WaitTimeout)
        except _WaitTimeout:
            return False
        except (OSError, ValueError):
            return True  # the socket is gone: the send that follows says so
        return True

    def response(self) -> Any:
        """Close, then end the WSGI call that carried this WebSocket, writing nothing."""
        self.close()
        if self.server == "gunicorn":
            raise StopIteration
        local = getattr(eventlet.wsgi, "WSGI_LOCAL", None)
        if local is None:  # eventlet < 0.30.3
            return eventlet.wsgi.ALREADY_HANDLED
        local.already_handled = True
        return []
