"""A WebSocket on the raw socket of a threaded WSGI server, spoken with wsproto.

WSGI has no WebSocket, but the two servers the threading mode runs under lend
the connection's socket to the application: werkzeug's development server (and
so ``flask run``) as ``environ["werkzeug.socket"]``, gunicorn's sync and
gthread workers as ``environ["gunicorn.socket"]``. :func:`accept_websocket`
validates the upgrade request with wsproto, writes the ``101`` response on that
socket and returns a :class:`WsprotoWebSocket` that owns the connection until
it closes.

Handing the connection back. The WSGI server must not write an HTTP response
on a socket that carried a WebSocket, so :meth:`WsprotoWebSocket.response`
*raises* the exception each server treats as "this connection is finished,
write nothing": werkzeug 3.1's ``run_wsgi`` catches ``ConnectionError`` around
the application call and only calls ``connection_dropped``; gunicorn's sync
and gthread workers re-raise an exception from the application when no
headers were sent, and their ``handle`` catches ``StopIteration`` as "close the
connection" without writing. Both servers then close the socket themselves,
so this module only ever shuts it down (``close()`` on werkzeug's socket would
be deferred while its file objects exist, and gunicorn's gthread worker must
still be able to call ``setblocking`` on it).

Bytes the server read ahead. Both servers read the request through a buffer;
whatever the client sent after the request headers (normally nothing: a client
waits for the ``101``) is taken from that buffer and fed to wsproto first.

Greenlet servers. The greenlet modes (eio-eventlet, eio-gevent) reuse this
class over their servers' cooperative sockets: a subclass overrides
:meth:`WsprotoWebSocket._new_lock`, :meth:`WsprotoWebSocket._new_event` and
:meth:`WsprotoWebSocket._wait_readable` with its library's primitives, and
builds the socket with :func:`handshake_connection` and :func:`read_ahead`.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, NoReturn

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection
from wsproto.events import Request as HandshakeRequest
from wsproto.utilities import RemoteProtocolError

from engineio_core.plugin.types import Event, MessageTooLarge, WebSocketClosed
from engineio_core.plugin.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameError,
    FrameReader,
    encode_close,
    encode_frame,
    encode_messages,
)

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "RAW_SOCKET_KEYS",
    "WebSocketTakenOver",
    "WsprotoWebSocket",
    "accept_websocket",
    "handshake_connection",
    "raw_socket",
    "read_ahead",
]

#: environ keys under which WSGI servers lend the connection's socket.
RAW_SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket")
DEFAULT_MAX_MESSAGE_SIZE = 1_000_000
#: How long a closing side waits for the peer's close frame before dropping
#: the connection anyway.
DEFAULT_CLOSE_TIMEOUT = 5.0
_RECV_SIZE = 64 * 1024
# SO_LINGER on, 0 seconds: closing the socket resets the connection at once.
_LINGER_ABORT = struct.pack("ii", 1, 0)
_TOO_BIG = 1009
# After a protocol error, how long (seconds) to drain the peer before closing.
_FAIL_LINGER = 1.0

ServerKind = Literal["werkzeug", "gunicorn"]


class WebSocketTakenOver(ConnectionError):
    """Raised to werkzeug after a WebSocket session: write no HTTP response.

    A ``ConnectionError``, which werkzeug's request handler treats as a
    dropped connection.
    """


def raw_socket(environ: dict[str, Any]) -> tuple[socket.socket, ServerKind] | None:
    """The connection's socket a WSGI server lent in ``environ``, and which server."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        return sock, "werkzeug"
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        return sock, "gunicorn"
    return None


def _handshake_bytes(environ: dict[str, Any]) -> bytes:
    """The upgrade request, rebuilt from the environ for wsproto to check.

    The target is not needed for the handshake, and a fixed one cannot trip
    h11's checks on characters a server let through.
    """
    lines = [f"{environ.get('REQUEST_METHOD', 'GET')} / HTTP/1.1"]
    has_host = False
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            name = key[5:].replace("_", "-")
            has_host = has_host or name == "HOST"
            lines.append(f"{name}: {value}")
    if not has_host:
        lines.append(f"Host: {environ.get('SERVER_NAME', 'localhost')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def handshake_connection(environ: dict[str, Any]) -> WSConnection | None:
    """A server-side wsproto connection that has read this request's upgrade.

    None when the request is not a valid WebSocket upgrade. Otherwise the
    connection is ready for ``send(AcceptConnection())``, which makes the
    ``101`` response.
    """
    connection = WSConnection(ConnectionType.SERVER)
    try:
        connection.receive_data(_handshake_bytes(environ))
    except (RemoteProtocolError, UnicodeError):
        return None
    if not any(isinstance(event, HandshakeRequest) for event in connection.events()):
        return None
    return connection


def read_ahead(stream: Any, sock: socket.socket, kind: str) -> bytes:
    """Bytes a WSGI server already read from ``sock`` past the request headers.

    ``stream`` is gunicorn's ``wsgi.input`` when ``kind`` is ``"gunicorn"``;
    otherwise the server's buffered reader of the connection (werkzeug's
    ``wsgi.input``, the ``rfile`` of eventlet's and gevent's handlers).
    """
    if stream is None:
        return b""
    if kind == "gunicorn":
        return _gunicorn_buffered(stream)
    return _werkzeug_buffered(stream, sock)


def _take_buffered(environ: dict[str, Any], sock: socket.socket, kind: ServerKind) -> bytes:
    """Bytes the WSGI server already read from ``sock`` past the request headers."""
    return read_ahead(environ.get("wsgi.input"), sock, kind)


def _gunicorn_buffered(stream: Any) -> bytes:
    # wsgi.input is a Body whose reader shares the connection parser's
    # Unreader; its buffer holds the read-ahead (take_buffered: gunicorn 23+).
    unreader = getattr(getattr(stream, "reader", None), "unreader", None)
    take = getattr(unreader, "take_buffered", None)
    data = take() if callable(take) else b""
    return data if isinstance(data, bytes) else b""


def _werkzeug_buffered(stream: Any, sock: socket.socket) -> bytes:
    # wsgi.input is the handler's buffered rfile. peek() returns what is
    # buffered without a raw read, or tries one raw read when nothing is; the
    # socket is non-blocking meanwhile so that read cannot wait.
    peek = getattr(stream, "peek", None)
    if not callable(peek):
        return b""
    timeout = sock.gettimeout()
    try:
        sock.setblocking(False)
        buffered = peek(_RECV_SIZE)
        data = stream.read(len(buffered)) if buffered else b""
    except OSError:
        data = b""
    finally:
        sock.settimeout(timeout)
    return data if isinstance(data, bytes) else b""


def accept_websocket(
    environ: dict[str, Any],
    *,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
) -> WsprotoWebSocket | None:
    """Accept the WebSocket this WSGI request asks for, on the server's raw socket.

    Returns None, having written nothing, when the environ has no raw socket
    or the request is not a valid WebSocket upgrade; the caller can then still
    answer with an HTTP error.
    """
    found = raw_socket(environ)
    if found is None:
        return None
    sock, kind = found
    connection = handshake_connection(environ)
    if connection is None:
        return None
    buffered = _take_buffered(environ, sock, kind)
    websocket = WsprotoWebSocket(
        sock,
        connection,
        kind,
        max_message_size=max_message_size,
        close_timeout=close_timeout,
    )
    try:
        sock.sendall(connection.send(AcceptConnection()))
    except OSError:
        websocket._finish()
        return websocket
    if buffered:
        websocket.feed(buffered)
    return websocket


class WsprotoWebSocket:
    """An accepted WebSocket over a blocking socket (the ``WebSocket`` protocol).

    One thread may ``receive`` while others ``send`` and ``close``. Pings are
    answered inside ``receive``. A message larger than ``max_message_size``
    bytes closes the connection with code 1009: ``receive`` raises
    ``MessageTooLarge`` (then returns None) and :attr:`closed_for_size` is
    True. :attr:`close_code` is the code of the close frame that ended the
    connection (ours or the peer's; 1006 when the connection dropped without
    one).

    wsproto checks the handshake (``connection`` is the wsproto connection
    that did it); the frames that follow are read and written by
    :mod:`engineio_core.plugin.wsframes`, several times cheaper per message.
    Bytes a server read past the upgrade request go to :meth:`feed`.

    Invariants: ``_lock`` guards every write to the socket and is never held
    while waiting to read; ``_recv_lock`` admits one reader at a time, which
    alone uses the frame reader; once ``_done`` is set the socket is shut
    down and every call returns at once.

    ``server`` names the WSGI server for :meth:`response`. A greenlet mode
    subclasses this class and overrides :meth:`_new_lock`, :meth:`_new_event`,
    :meth:`_wait_readable` and :meth:`response` (see the module docstring).
    """

    def __init__(
        self,
        sock: socket.socket,
        connection: WSConnection,
        server: str,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> None:
        self.sock = sock
        # Small frames go out at once: without this, Nagle's algorithm holds a
        # frame back until the previous one is acknowledged (delayed ACK: ~40 ms).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server = server
        self.max_message_size = max_message_size
        self.close_timeout = close_timeout
        self.closed_for_size = False
        self._size_reported = False
        self.close_code: int | None = None
        self._reader = FrameReader(max_message_size)
        self._lock = self._new_lock()
        self._recv_lock = self._new_lock()
        self._done = self._new_event()
        self._close_sent = False
        self._failed = False  # the peer broke the protocol: no more messages
        self._close_deadline = 0.0
        self._poller: Any = None  # made by the first _wait_readable
        # The tail of a frame that try_send could not write without waiting.
        self._unsent: memoryview | None = None
        self._send_nowait = self._nowait_sender()

    def _new_lock(self) -> Any:
        """A lock shaped like ``threading.Lock`` (``acquire(timeout=-1)`` waits forever)."""
        return threading.Lock()

    def _new_event(self) -> Event:
        """An event shaped like ``threading.Event``."""
        return threading.Event()

    def _nowait_sender(self) -> Callable[[bytes], int] | None:
        """A send on :attr:`sock` that never waits -> bytes written; None if there is none.

        It raises ``BlockingIOError`` (or returns less than asked) when the
        socket's buffer is full. Here: ``MSG_DONTWAIT`` on a plain blocking
        socket. A socket with a timeout would poll before sending, and TLS
        takes no flags, so those get no such send and :meth:`try_send` hands
        every write to a caller that may wait.
        """
        sock = self.sock
        flags = getattr(socket, "MSG_DONTWAIT", 0)
        if not flags or isinstance(sock, ssl.SSLSocket) or type(sock) is not socket.socket:
            return None
        if sock.gettimeout():
            return None
        send = sock.send
        return lambda data: send(data, flags)

    def feed(self, data: bytes) -> None:
        """Bytes that arrived before this object took the socket over (read-ahead)."""
        self._reader.feed(data)

    @property
    def closed(self) -> bool:
        """True once the connection is over (the socket is shut down)."""
        return self._done.is_set()

    # -- receiving ---------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message; None once closed; ``TimeoutError`` after ``timeout`` seconds.

        Raises :class:`~engineio_core.plugin.types.MessageTooLarge` once, after
        closing the connection with code 1009 because a message was too large.
        """
        return self._receive(timeout, False)  # type: ignore[return-value]

    def receive_many(self, timeout: float | None = None) -> list[str | bytes] | None:
        """Every message read so far, in order (at least one, waiting for it); as :meth:`receive`.

        A client that sends a burst sends it in one segment: one call (one
        wake-up of the reader) then takes all of it.
        """
        return self._receive(timeout, True)  # type: ignore[return-value]

    def _receive(self, timeout: float | None, many: bool) -> str | bytes | list[str | bytes] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._recv_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError("another thread is receiving on this WebSocket")
        try:
            while True:
                message = self._process_events()
                if message is not None:
                    if not many:
                        return message
                    messages = [message]
                    # Only what is already read: a close or a protocol error
                    # among it ends the batch, and the next call reports it.
                    while (message := self._process_events()) is not None:
                        messages.append(message)
                    return messages
                if self._done.is_set() or self._failed:
                    # After a protocol error the session ends now; close() drains.
                    self._raise_if_too_large()
                    return None
                if self._close_sent:
                    # Closing: the peer has close_timeout to answer.
                    close_deadline = self._close_deadline
                    if deadline is None or close_deadline <= deadline:
                        deadline, closing = close_deadline, True
                    else:
                        closing = False
                else:
                    closing = False
                try:
                    self._read(deadline)
                except TimeoutError:
                    if not closing:
                        raise
                    self._finish()
                    self._raise_if_too_large()
                    return None
        finally:
            self._recv_lock.release()

    def _raise_if_too_large(self) -> None:
        if self.closed_for_size and not self._size_reported:
            self._size_reported = True
            raise MessageTooLarge(
                f"a WebSocket message exceeded {self.max_message_size} bytes; closed with 1009"
            )

    def _read(self, deadline: float | None) -> None:
        """Feed the frame reader what the socket has, waiting until ``deadline`` at most."""
        if not self._wait_readable(deadline):
            raise TimeoutError("no WebSocket message within the timeout")
        try:
            data = self.sock.recv(_RECV_SIZE)
        except OSError:
            data = b""
        if not data:
            self._finish()  # the peer dropped the connection (1006 unless it closed first)
            return
        self._reader.feed(data)

    def _wait_readable(self, deadline: float | None) -> bool:
        """Wait until the socket is readable or ``deadline`` passes; False on timeout."""
        if self._done.is_set():
            return True
        pending = getattr(self.sock, "pending", None)  # TLS: decrypted, unread bytes
        if pending is not None and pending():
            return True
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            if self._poller is None and hasattr(select, "poll"):
                self._poller = select.poll()
                self._poller.register(self.sock, select.POLLIN)
            if self._poller is not None:
                ms = None if timeout is None else int(timeout * 1000 + 0.999)
                return bool(self._poller.poll(ms))
            readable, _, _ = select.select([self.sock], [], [], timeout)
            return bool(readable)
        except (OSError, ValueError):
            return True  # the socket is gone: the recv() that follows says so

    def _process_events(self) -> str | bytes | None:
        """Handle the frames read so far; return a complete message if one arrived."""
        reader = self._reader
        while True:
            try:
                frame = reader.next()
            except FrameError as exc:
                self._on_frame_error(exc)
                return None
            if frame is None:
                return None
            opcode, payload = frame
            if opcode in (OP_TEXT, OP_BINARY):
                if self._close_sent:
                    continue  # closing: discard until the peer's close frame
                return payload  # type: ignore[return-value]
            if opcode == OP_PING:
                if not self._close_sent:  # no pong once closing
                    with self._lock:
                        self._send_locked(encode_frame(OP_PONG, payload))  # type: ignore[arg-type]
            elif opcode == OP_CLOSE:
                assert isinstance(payload, tuple)
                self._on_close(payload[0])
                return None

    def _on_frame_error(self, exc: FrameError) -> None:
        """The peer broke the protocol: fail the connection (RFC 6455, 7.1.7).

        A close frame with the code that says why, then the end of our side of
        the stream; no close handshake, since what follows the bad frame cannot
        be parsed. ``receive`` reports the end at once; :meth:`close` then reads
        and drops what the peer still sends for a moment (until it closes too,
        or ``_FAIL_LINGER`` passes): closing with data unread would reset the
        connection, and the peer could lose our close frame.
        """
        self._failed = True
        if exc.code == _TOO_BIG:
            self.closed_for_size = True
        with self._lock:
            self._send_close_locked(exc.code, exc.reason)
        self._close_deadline = min(self._close_deadline, time.monotonic() + _FAIL_LINGER)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def _on_close(self, code: int | None) -> None:
        """The peer's close frame: answer it with the same code, unless we closed first."""
        if self.close_code is None:
            self.close_code = code if code is not None else 1005
        if not self._close_sent:
            self._close_sent = True
            with self._lock:
                self._send_bounded_locked(encode_close(code), time.monotonic() + self.close_timeout)
        self._finish()

    # -- sending and closing -------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message; thread-safe."""
        self.send_many([data])

    def send_many(self, messages: list[str | bytes]) -> None:
        """Send several messages in order, in one write to the socket; thread-safe."""
        with self._lock:
            payload = self._frames_locked(messages)
            if not self._send_locked(payload):
                raise WebSocketClosed("the WebSocket connection was lost")

    def _frames_locked(self, messages: list[str | bytes]) -> bytes:
        """The frames of ``messages``, for one write. Hold ``_lock``."""
        if self._close_sent or self._done.is_set():
            raise WebSocketClosed("the WebSocket is closed")
        return encode_messages(messages)

    def try_send(self, data: str | bytes | list[str | bytes]) -> Callable[[], None] | None:
        """Send a message (or a list, in order) without waiting -> None when done,
        else what finishes the job.

        The returned callable blocks until the messages are out (or raises
        ``WebSocketClosed``); call it where waiting is allowed, before
        anything else is sent on this WebSocket. Nothing waits here: not for
        the socket (frames the socket buffer cannot take whole are kept and
        the callable writes the rest) and not for the lock (held by a send
        that waits on the peer: the callable sends everything).
        """
        messages = data if isinstance(data, list) else [data]
        nowait = self._send_nowait
        if nowait is None or not self._lock.acquire(blocking=False):
            return lambda: self.send_many(messages)
        try:
            payload = self._frames_locked(messages)
            if self._unsent is not None:
                # A flush is pending: the socket was full a moment ago.
                self._unsent = memoryview(self._with_unsent(payload))
                return self._flush
            sent = self._send_now_locked(nowait, payload)
            if sent is None:
                raise WebSocketClosed("the WebSocket connection was lost")
            if sent >= len(payload):
                return None
            self._unsent = memoryview(payload)[sent:]
            return self._flush
        finally:
            self._lock.release()

    def _with_unsent(self, payload: bytes) -> bytes:
        """``payload`` behind the tail :meth:`try_send` left, which goes out whole
        before anything else; the tail is taken. Hold ``_lock``."""
        unsent = self._unsent
        if unsent is None:
            return payload
        self._unsent = None
        return bytes(unsent) + payload

    def _send_now_locked(self, nowait: Callable[[Any], int], data: Any) -> int | None:
        """One send that does not wait -> bytes written (0: the buffer is full);
        None when the connection is lost, which is then over. Hold ``_lock``."""
        try:
            return nowait(data)
        except BlockingIOError:
            return 0
        except OSError:
            self._finish()
            return None

    def _flush(self) -> None:
        """Write what :meth:`try_send` left unsent, waiting for the socket."""
        with self._lock:
            if not self._send_locked(b""):
                raise WebSocketClosed("the WebSocket connection was lost")

    def _send_locked(self, payload: bytes) -> bool:
        """Write ``payload``; on failure the connection is over. Hold ``_lock``."""
        if self._done.is_set():
            return False
        payload = self._with_unsent(payload)
        if not payload:
            return True
        try:
            self.sock.sendall(payload)
        except OSError:
            self._finish()
            return False
        return True

    def _send_close_locked(self, code: int, reason: str = "") -> None:
        if self._close_sent:
            return
        self._close_sent = True
        self._close_deadline = time.monotonic() + self.close_timeout
        if self.close_code is None:
            self.close_code = code
        if not self._done.is_set():
            self._send_bounded_locked(encode_close(code, reason), self._close_deadline)

    def _send_bounded_locked(self, payload: bytes, deadline: float) -> bool:
        """:meth:`_send_locked`, but drop the connection if the peer has not taken
        ``payload`` by ``deadline``: a peer that stopped reading must not hold up
        a close forever (with the lock held). Hold ``_lock``."""
        nowait = self._send_nowait
        if nowait is None:
            return self._send_locked(payload)
        if self._done.is_set():
            return False
        view = memoryview(self._with_unsent(payload))
        while view:
            sent = self._send_now_locked(nowait, view)
            if sent is None:
                return False
            view = view[sent:]
            if view and not self._wait_writable(deadline):
                self._finish(abort=True)
                return False
        return True

    def _wait_writable(self, deadline: float) -> bool:
        """Wait until the socket takes more data or ``deadline`` passes; False on timeout."""
        timeout_ms = int(max(0.0, deadline - time.monotonic()) * 1000 + 0.999)
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLOUT)
            return bool(poller.poll(timeout_ms))
        except (OSError, ValueError):
            return True  # the socket is gone: the send that follows says so

    def close(self, code: int = 1000) -> None:
        """Close with ``code``, waiting up to ``close_timeout`` for the peer's reply.

        Idempotent. A thread blocked in ``receive`` returns None.
        """
        if self._done.is_set():
            return
        if not self._lock.acquire(timeout=self.close_timeout):
            # A send is stuck on a peer that stopped reading: drop the connection.
            self._finish(abort=True)
            return
        try:
            self._send_close_locked(code)  # unless a close frame went out already
        finally:
            self._lock.release()
        # Read until the peer's answer (or its end of the stream) here, unless a
        # receiving thread does.
        remaining = max(0.0, self._close_deadline - time.monotonic())
        if self._recv_lock.acquire(timeout=remaining):
            try:
                self._drain()
            finally:
                self._recv_lock.release()
        else:
            self._done.wait(max(0.0, self._close_deadline - time.monotonic()))
        self._finish(abort=True)  # a no-op if the peer answered in time

    def _drain(self) -> None:
        """After our close frame: read (dropping messages) until the connection ends
        or the close deadline passes. Hold ``_recv_lock``."""
        while not self._done.is_set():
            self._process_events()
            if self._done.is_set():
                return
            try:
                self._read(self._close_deadline)
            except TimeoutError:
                return

    def _finish(self, abort: bool = False) -> None:
        """End the connection: shut the socket down (the WSGI server closes it).

        ``abort`` when the peer stopped reading or answering: the socket then
        resets when it is closed, dropping what the kernel still buffers for
        it (megabytes, for a stalled reader), instead of queueing the end of
        the connection behind data the peer may never read.
        """
        if self._done.is_set():
            return
        self._done.set()
        if self.close_code is None:
            self.close_code = 1006
        if abort:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ABORT)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def response(self) -> NoReturn:
        """End the WSGI call that carried this WebSocket, writing nothing more.

        Closes the WebSocket if still open, then raises what the WSGI server
        takes as "connection finished": ``StopIteration`` for gunicorn,
        :class:`WebSocketTakenOver` (a ``ConnectionError``) for werkzeug. Let it
        propagate out of the WSGI application (and not through a generator,
        where Python turns ``StopIteration`` into ``RuntimeError``).
        """
        self.close()
        if self.server == "gunicorn":
            raise StopIteration
        raise WebSocketTakenOver("the WebSocket connection is closed")
