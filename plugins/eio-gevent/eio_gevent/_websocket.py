"""WebSockets under gevent: wsproto over the connection's gevent socket.

Every server of the ``gevent`` mode gives the application a way to the
connection's socket, and one code path speaks the protocol on all of them:
the core's :class:`~engineio_core.plugin.wsproto_socket.WsprotoWebSocket`,
given gevent locks and events and waiting for data through gevent's hub by
:class:`GeventWebSocket`. Where the socket is, and how the server is told
that the connection is finished (no HTTP response may follow):

* gevent's ``pywsgi`` server: for an upgrade request ``wsgi.input`` is the
  handler's buffered reader of the socket (``rfile.raw._sock``). Closing that
  reader makes the handler stop reading requests and close the connection.
* gevent-websocket's ``WebSocketHandler`` (alone or in gunicorn's
  ``GeventWebSocketWorker``) answers ``101`` *before* calling the application
  and puts its own socket object in ``environ["wsgi.websocket"]``; its
  ``handler.socket`` is the connection. The handshake is then already done
  (so an upgrade the server refuses is closed with ``4000 + status``, see
  :func:`refuse_upgraded`), and marking that object closed stops the handler
  from writing its own close frame.
* gunicorn's ``gevent`` worker: ``environ["gunicorn.socket"]``; raising
  ``StopIteration`` makes it close the connection without writing.
* uWSGI (the ``gevent_uwsgi`` mode, :mod:`eio_gevent._uwsgi`): a duplicate of
  ``uwsgi.connection_fd()`` after ``uwsgi.websocket_handshake()``.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import gevent.socket
import gevent.ssl
from wsproto import WSConnection
from wsproto.events import AcceptConnection

from eio_gevent._green import new_event, new_lock
from engineio_core.plugin import Response
from engineio_core.plugin.wsproto_socket import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    WsprotoWebSocket,
    handshake_connection,
    read_ahead,
)

__all__ = [
    "GeventWebSocket",
    "accept_websocket",
    "can_upgrade",
    "open_websocket",
    "refuse_upgraded",
    "send_without_delay",
]

#: A refused upgrade that the server already answered with 101 is closed with
#: this plus the HTTP status it would have had (4403 Forbidden, say).
REFUSED_CLOSE_BASE = 4000


class _WaitTimeout(Exception):
    """Raised in a greenlet whose wait on the socket timed out."""


class GeventWebSocket(WsprotoWebSocket):
    """:class:`WsprotoWebSocket` on a gevent socket, with gevent locks and waits.

    ``finish`` ends the WSGI call after the session, in the way the server
    needs (see the module docstring); :meth:`response` returns its result.
    """

    def __init__(
        self,
        sock: Any,
        connection: WSConnection,
        server: str,
        finish: Callable[[], Any],
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> None:
        super().__init__(
            sock,
            connection,
            server,
            max_message_size=max_message_size,
            close_timeout=close_timeout,
        )
        self._finish_call = finish
        self._read_watcher: Any = None  # made by the first _wait_readable
        self._read_hub: Any = None
        self._pending: Callable[[], int] | None = getattr(sock, "pending", None)

    def _new_lock(self) -> Any:
        return new_lock()

    def _new_event(self) -> Any:
        return new_event()

    def _nowait_sender(self) -> Callable[[bytes], int] | None:
        # timeout=0.0 makes a gevent socket's send raise instead of parking the
        # greenlet when the buffer is full. TLS has to go through its SSLSocket.
        sock = self.sock
        if isinstance(sock, (ssl.SSLSocket, gevent.ssl.SSLSocket)) or not isinstance(
            sock, gevent.socket.socket
        ):
            return None
        # The real socket under it is non-blocking already (gevent waits in its hub):
        # its own send raises BlockingIOError when full, with no Python frame per
        # reply, where gevent's send(data, 0, 0.0) and a lambda around it take two.
        raw = getattr(sock, "_sock", None)
        if isinstance(raw, socket.SocketType) and raw.gettimeout() == 0.0:
            raw_send: Callable[[bytes], int] = raw.send
            return raw_send
        send: Callable[..., int] = sock.send
        return lambda data: send(data, 0, 0.0)

    def _wait_readable(self, deadline: float | None) -> bool:
        if self._done.is_set():
            return True
        pending = self._pending  # TLS: decrypted, unread bytes
        if pending is not None and pending():
            return True
        # One read watcher for the connection's life, started and stopped by each
        # wait. gevent.socket.wait_read makes a watcher per call, and a new
        # watcher costs libev an fcntl() to check the descriptor and an
        # epoll_ctl() on its next turn: two system calls per message read.
        hub = gevent.get_hub()
        watcher = self._read_watcher
        if watcher is None or self._read_hub is not hub:
            try:
                fileno = self.sock.fileno()
                if fileno < 0:
                    return True  # closed: the recv() that follows says so
                watcher = hub.loop.io(fileno, 1)
            except (OSError, ValueError):
                return True
            self._close_read_watcher()
            self._read_watcher, self._read_hub = watcher, hub
        try:
            if deadline is None:
                hub.wait(watcher)
            else:
                with gevent.Timeout(max(0.0, deadline - time.monotonic()), _WaitTimeout):
                    hub.wait(watcher)
        except _WaitTimeout:
            return False
        except (OSError, ValueError):
            return True  # the socket is gone: the recv() that follows says so
        return True

    def _close_read_watcher(self) -> None:
        watcher, self._read_watcher = self._read_watcher, None
        if watcher is None:
            return
        if watcher.callback is None:
            watcher.close()
        else:  # a greenlet waits on it: it wakes with this error, then reads EOF
            error = OSError(errno.EBADF, "the WebSocket's read watcher was closed")
            self._read_hub.cancel_wait(watcher, error, True)

    def _wait_writable(self, deadline: float) -> bool:
        timeout = max(0.0, deadline - time.monotonic())
        try:
            gevent.socket.wait_write(self.sock.fileno(), timeout=timeout, timeout_exc=_WaitTimeout)
        except _WaitTimeout:
            return False
        except (OSError, ValueError):
            return True  # the socket is gone: the send that follows says so
        return True

    def response(self) -> Any:
        """Close, then end the WSGI call that carried this WebSocket, writing nothing."""
        self.close()
        self._close_read_watcher()  # before the server closes the descriptor
        return self._finish_call()


def open_websocket(
    sock: Any,
    connection: WSConnection,
    server: str,
    finish: Callable[[], Any],
    *,
    buffered: bytes = b"",
    handshake_sent: bool = False,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> GeventWebSocket:
    """Complete the handshake on ``sock`` (unless the server did) and wrap it."""
    websocket = GeventWebSocket(
        sock,
        connection,
        server,
        finish,
        max_message_size=max_message_size,
        close_timeout=close_timeout,
    )
    accept = connection.send(AcceptConnection())  # wsproto is now open
    if not handshake_sent:
        try:
            sock.sendall(accept)
        except OSError:
            websocket.close()
            return websocket
    if buffered:
        websocket.feed(buffered)
    return websocket


def _stop_iteration() -> Any:
    raise StopIteration


def _pywsgi_socket(environ: dict[str, Any]) -> tuple[Any, Any] | None:
    """pywsgi's connection socket and buffered reader, found through ``wsgi.input``.

    For an upgrade request ``wsgi.input`` is the handler's ``rfile`` itself;
    for other requests it is an ``Input`` holding that ``rfile``.
    """
    stream = environ.get("wsgi.input")
    rfile = stream if hasattr(stream, "raw") else getattr(stream, "rfile", None)
    sock = getattr(getattr(rfile, "raw", None), "_sock", None)
    if isinstance(sock, gevent.socket.socket):
        return sock, rfile
    return None


def send_without_delay(environ: dict[str, Any]) -> None:
    """Turn Nagle's algorithm off on pywsgi's connection, before it sends a response.

    pywsgi writes the headers and the body of a response in two sends. With
    Nagle's algorithm on (pywsgi leaves it on; gunicorn turns it off), the
    body waits until the client acknowledges the headers, and clients delay
    that acknowledgement by up to 40 ms: every poll, POST and handshake
    would take 40 ms longer.
    """
    found = _pywsgi_socket(environ)
    if found is not None:
        with contextlib.suppress(OSError):
            found[0].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def can_upgrade(environ: dict[str, Any]) -> bool:
    """Whether this server lends the connection's socket (checked per request)."""
    return (
        "wsgi.websocket" in environ
        or "gunicorn.socket" in environ
        or _pywsgi_socket(environ) is not None
    )


def accept_websocket(
    environ: dict[str, Any],
    *,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> GeventWebSocket | None:
    """Accept the WebSocket this request asks for on the server's gevent socket.

    None when there is no socket or the request is not a valid upgrade; then
    nothing was written, unless gevent-websocket's handler already had.
    """
    connection = handshake_connection(environ)
    if connection is None:
        return None
    options: dict[str, Any] = {
        "max_message_size": max_message_size,
        "close_timeout": close_timeout,
    }
    handler_ws = environ.get("wsgi.websocket")
    if handler_ws is not None:
        handler = handler_ws.handler

        def release_handler() -> list[bytes]:
            handler_ws.closed = True  # the handler must not write a close frame of its own
            return []

        sock = handler.socket
        buffered = read_ahead(handler.rfile, sock, "pywsgi")
        return open_websocket(
            sock,
            connection,
            "gevent-websocket",
            release_handler,
            buffered=buffered,
            handshake_sent=True,
            **options,
        )
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        buffered = read_ahead(environ.get("wsgi.input"), sock, "gunicorn")
        return open_websocket(
            sock, connection, "gunicorn", _stop_iteration, buffered=buffered, **options
        )
    found = _pywsgi_socket(environ)
    if found is None:
        return None
    sock, rfile = found

    def release_pywsgi() -> list[bytes]:
        rfile.close()  # the handler sees it closed and reads no further request
        return []

    buffered = read_ahead(rfile, sock, "pywsgi")
    return open_websocket(sock, connection, "pywsgi", release_pywsgi, buffered=buffered, **options)


def refuse_upgraded(environ: dict[str, Any], response: Response) -> Any:
    """Refuse a WebSocket that gevent-websocket's handler already answered with 101.

    The HTTP error can no longer be sent, so the WebSocket is closed with
    ``4000 + status`` (4403 for a refused Origin, 4401 when the connect
    handler said no, 4400 for a bad request).
    """
    code = REFUSED_CLOSE_BASE + response.status if 400 <= response.status < 1000 else 1011
    websocket = accept_websocket(environ, close_timeout=1.0)
    if websocket is None:
        # Not an upgrade wsproto accepts: drop the connection.
        handler_ws = environ["wsgi.websocket"]
        handler_ws.closed = True
        with contextlib.suppress(OSError):
            handler_ws.handler.socket.shutdown(socket.SHUT_RDWR)
        return []
    websocket.close(code)
    return websocket.response()
