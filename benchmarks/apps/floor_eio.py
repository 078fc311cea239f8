"""The least a conforming server does for the HTTP scenarios: the floor under engineio-core.

``minimal_eio.py`` is the least work that passes the load generator; its rate is the
HTTP scenarios' ceiling. It leaves out what the Engine.IO protocol and python-engineio's
API oblige a real server to do with the same requests. This app adds exactly those
obligations, each in the cheapest form found, and nothing else:

- The query: ``EIO`` must be 4 and ``transport`` polling, else 400; a sid must be known.
- An ``Origin`` header, when a request has one, must be the server's own origin (what
  the default ``cors_allowed_origins`` allows), else 400.
- A POST's ``Content-Length`` and body are held to ``max_http_buffer_size`` (413).
- The payload is UTF-8 text, checked packet by packet: a message (text, or ``b`` and
  base64) goes to the message handler, a pong refreshes the session, a close ends it,
  a noop is ignored; anything else is a 400 that closes the session.
- The benchmark app's handlers (``bench_app.py``), with the same bodies: ``connect(sid,
  environ)`` gets a WSGI-style environ (the framework's own under WSGI) and may refuse
  (401); ``message(sid, data)`` runs apart from the request, as ``async_handlers``
  asks (started eagerly, or run by a pooled thread), and echoes with ``send(sid,
  data)``; ``disconnect(sid, reason)``.
- A poll waits at most until the session's next ping is due, then carries the ping; a
  second poll while one waits is a 400 that closes the session.

Left out because these scenarios never need them, for engineio-core and python-engineio
alike: the heartbeat's pings (the interval outlasts a run), compression (every response
is under the 1 KiB threshold), the cookie (off for both in the benchmark app), logging
(off at the default level), WebSocket upgrades, JSONP and protocol 3.

So a conforming implementation on the framework's ordinary request API does at least
this work, and the ratio of this app's rate to python-engineio's bounds a cell from
above more tightly than ``minimal_eio`` does. ``run.py --plain-http floor`` serves it
in place of ``minimal_eio`` (the ``BENCH_PLAIN_HTTP`` variable tells the plain apps).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import queue
import threading
import time
from binascii import b2a_base64
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit

PING_INTERVAL = 25.0
PING_TIMEOUT = 20.0
MAX_BUFFER = 1_000_000
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_OPEN = '0{"sid":"%s","upgrades":["websocket"],"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}'
TEXT_TYPE = "text/plain; charset=UTF-8"
OK_TYPE = "text/html"
_BAD = (400, OK_TYPE, b"")
_TOO_BIG = (413, OK_TYPE, b"")
_REFUSED = (401, OK_TYPE, b"")
_OK = (200, OK_TYPE, b"ok")

Reply = tuple[int, str, bytes]


class _Session:
    __slots__ = ("alive_until", "closed", "lock", "polling", "queue", "wake")

    def __init__(self, wake: Any) -> None:
        self.queue: list[str] = []
        self.wake = wake  # a threading-style Event (sync), an asyncio future or None
        self.polling = False
        self.closed = False
        self.alive_until = time.monotonic() + PING_INTERVAL + PING_TIMEOUT
        self.lock = threading.Lock()


SESSIONS: dict[str, _Session] = {}
CLIENTS: set[str] = set()


# The benchmark app's connect and disconnect handlers (bench_app.py).
def _on_connect(sid: str, environ: dict[str, Any]) -> bool | None:
    CLIENTS.add(sid)
    return None


def _on_disconnect(sid: str, reason: str) -> None:
    CLIENTS.discard(sid)


def _query(query: str) -> dict[str, str]:
    if "%" in query or "+" in query:
        return {key: values[0] for key, values in parse_qs(query).items()}
    return dict(pair.partition("=")[::2] for pair in query.split("&"))


def _same_origin(origin: str, own_origin: Callable[[], str]) -> bool:
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == own_origin()


def _check(query: str, origin: str | None, own_origin: Callable[[], str]) -> str | bool | None:
    """The sid (None for a handshake), or False for a request to refuse."""
    args = _query(query)
    if args.get("EIO") != "4" or args.get("transport") != "polling":
        return False
    if origin is not None and not _same_origin(origin, own_origin):
        return False
    return args.get("sid")


def _new_sid() -> str:
    return b2a_base64(os.urandom(15), newline=False).translate(_URLSAFE).decode()


def _open_reply(sid: str) -> Reply:
    body = _OPEN % (sid, PING_INTERVAL * 1000, PING_TIMEOUT * 1000, MAX_BUFFER)
    return 200, TEXT_TYPE, body.encode()


def _packets(body: bytes) -> list[str] | None:
    try:
        return body.decode("utf-8").split("\x1e")
    except UnicodeDecodeError:
        return None


def _message_data(packet: str) -> str | bytes | None:
    if packet[:1] == "4":
        return packet[1:]
    try:
        return base64.b64decode(packet[1:], validate=True)
    except binascii.Error:
        return None


def _take(session: _Session) -> bytes:
    out = "\x1e".join(session.queue).encode()
    session.queue.clear()
    return out


def _timed_out(session: _Session) -> None:
    """A poll waited until the next ping was due: it carries the ping."""
    session.queue.append("2")


def _no_wake() -> None:
    return None


def _begin(
    method: str,
    query: str,
    origin: str | None,
    own_origin: Callable[[], str],
    new_wake: Callable[[], Any],
    make_environ: Callable[[], dict[str, Any]],
) -> Reply | tuple[str, _Session]:
    """A handshake's reply, a refusal, or the (sid, session) the request is for."""
    sid = _check(query, origin, own_origin)
    if sid is False:
        return _BAD
    if sid is None:
        if method != "GET":
            return _BAD
        sid = _new_sid()
        SESSIONS[sid] = _Session(new_wake())
        if _on_connect(sid, make_environ()) is False:
            SESSIONS.pop(sid)
            return _REFUSED
        return _open_reply(sid)
    assert isinstance(sid, str)
    session = SESSIONS.get(sid)
    if session is None:
        return _BAD
    return sid, session


def _too_big(content_length: int | None) -> bool:
    return content_length is not None and content_length > MAX_BUFFER


def _post(
    sid: str,
    session: _Session,
    body: bytes,
    deliver: Callable[[str, str | bytes], None],
    close: Callable[[str, _Session, str], None],
) -> Reply:
    """A POST's body: each packet checked, messages to ``deliver``; the reply."""
    if len(body) > MAX_BUFFER:
        close(sid, session, "payload too large")
        return _TOO_BIG
    packets = _packets(body)
    if packets is None:
        close(sid, session, "parse error")
        return _BAD
    for packet in packets:
        kind = packet[:1]
        if kind == "4" or kind == "b":
            data = _message_data(packet)
            if data is None:
                close(sid, session, "parse error")
                return _BAD
            deliver(sid, data)
        elif kind == "3":
            session.alive_until = time.monotonic() + PING_INTERVAL + PING_TIMEOUT
        elif kind == "1":
            close(sid, session, "client close")
        elif kind != "6":
            close(sid, session, "parse error")
            return _BAD
    return _OK


# -- asyncio servers --------------------------------------------------------------------


def _wake_async(session: _Session) -> None:
    waiter = session.wake
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def send_async(sid: str, data: str | bytes) -> None:
    session = SESSIONS.get(sid)
    if session is None or session.closed:
        return
    if isinstance(data, str):
        session.queue.append("4" + data)
    else:
        session.queue.append("b" + base64.b64encode(data).decode())
    _wake_async(session)


async def _on_message_async(sid: str, data: Any) -> None:
    if isinstance(data, str) and data[:1] == "*":
        for other in list(CLIENTS):
            await send_async(other, data)
    else:
        await send_async(sid, data)


def _spawn_async(coro: Coroutine[Any, Any, None]) -> None:
    """Run a message handler apart from the request, started eagerly: its first step now.

    The benchmark's handler never waits (``send_async`` does not), so it ends in that
    step; a handler that waited would be handed to a task from there, which costs
    nothing until it happens and which this app therefore leaves out."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("floor_eio's message handler waited: it never should")


def _deliver_async(sid: str, data: str | bytes) -> None:
    _spawn_async(_on_message_async(sid, data))


def _close_async(sid: str, session: _Session, reason: str) -> None:
    session.closed = True
    SESSIONS.pop(sid, None)
    session.queue.append("6")  # a pending poll ends with a noop
    _wake_async(session)
    _on_disconnect(sid, reason)


async def respond_async(
    method: str,
    query: str,
    origin: str | None,
    own_origin: Callable[[], str],
    content_length: int | None,
    read_body: Callable[[int], Awaitable[bytes]],
    make_environ: Callable[[], dict[str, Any]],
) -> Reply:
    """(status, content type, body) for one request on an asyncio server."""
    begun = _begin(method, query, origin, own_origin, _no_wake, make_environ)
    if len(begun) == 3:
        return begun
    sid, session = begun
    if method == "POST":
        if _too_big(content_length):
            _close_async(sid, session, "payload too large")
            return _TOO_BIG
        body = await read_body(MAX_BUFFER + 1)
        return _post(sid, session, body, _deliver_async, _close_async)
    if method != "GET":
        return _BAD
    if session.polling:
        _close_async(sid, session, "transport error")
        return _BAD
    if not session.queue:
        loop = asyncio.get_running_loop()
        session.polling = True
        try:
            while not session.queue:
                waiter = session.wake = loop.create_future()
                timer = loop.call_later(PING_INTERVAL, _wake_async, session)
                try:
                    await waiter
                finally:
                    timer.cancel()
                    session.wake = None
                if not session.queue:
                    _timed_out(session)
        finally:
            session.polling = False
    return 200, TEXT_TYPE, _take(session)


# -- WSGI servers: a thread or a greenlet per request -----------------------------------


class _Pool:
    """Threads that take the next job once done: an idle one if any, else a new one."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]]]
        self._jobs = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        with self._lock:
            start = not self._idle
            if not start:
                self._idle -= 1
        self._jobs.put((job, args))
        if start:
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while True:
            job, args = self._jobs.get()
            try:
                job(*args)
            except Exception as exc:  # as an uncaught exception in a thread would be
                print("handler failed:", repr(exc), flush=True)
            with self._lock:
                self._idle += 1


_POOL = _Pool()


def send_sync(sid: str, data: str | bytes) -> None:
    session = SESSIONS.get(sid)
    if session is None:
        return
    with session.lock:
        if session.closed:
            return
        if isinstance(data, str):
            session.queue.append("4" + data)
        else:
            session.queue.append("b" + base64.b64encode(data).decode())
    session.wake.set()


def _on_message_sync(sid: str, data: Any) -> None:
    if isinstance(data, str) and data[:1] == "*":
        for other in list(CLIENTS):
            send_sync(other, data)
    else:
        send_sync(sid, data)


def _deliver_sync(sid: str, data: str | bytes) -> None:
    if _INLINE_HANDLERS:
        _on_message_sync(sid, data)
    else:
        _POOL.submit(_on_message_sync, sid, data)


#: BENCH_ASYNC_HANDLERS=0, as bench_app reads it (layer.py's WSGI scenarios): the
#: message handler runs in the request's thread, as async_handlers=False asks.
_INLINE_HANDLERS = os.environ.get("BENCH_ASYNC_HANDLERS") == "0"


def _close_sync(sid: str, session: _Session, reason: str) -> None:
    with session.lock:
        session.closed = True
        SESSIONS.pop(sid, None)
        session.queue.append("6")
    session.wake.set()
    _on_disconnect(sid, reason)


def respond_sync(
    method: str,
    query: str,
    origin: str | None,
    own_origin: Callable[[], str],
    content_length: int | None,
    read_body: Callable[[int], bytes],
    environ: dict[str, Any],
    new_event: Callable[[], Any] = threading.Event,
) -> Reply:
    """(status, content type, body) for one request on a WSGI server."""
    begun = _begin(method, query, origin, own_origin, new_event, lambda: environ)
    if len(begun) == 3:
        return begun
    sid, session = begun
    if method == "POST":
        if _too_big(content_length):
            _close_sync(sid, session, "payload too large")
            return _TOO_BIG
        return _post(sid, session, read_body(MAX_BUFFER + 1), _deliver_sync, _close_sync)
    if method != "GET":
        return _BAD
    with session.lock:
        if session.polling:
            overlap = True
        else:
            overlap = False
            session.polling = True
    if overlap:
        _close_sync(sid, session, "transport error")
        return _BAD
    try:
        while True:
            with session.lock:
                if session.queue:
                    return 200, TEXT_TYPE, _take(session)
                session.wake.clear()
            if not session.wake.wait(PING_INTERVAL):
                with session.lock:
                    _timed_out(session)
    finally:
        session.polling = False


def _wsgi_body(environ: dict[str, Any], limit: int) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(min(length, limit))
    return body


def _wsgi_origin(environ: dict[str, Any]) -> str:
    return f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', '')}"


_STATUS_LINES = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized"}
_STATUS_LINES[413] = "413 Payload Too Large"


def wsgi_app(
    environ: dict[str, Any], start_response: Any, new_event: Callable[[], Any] = threading.Event
) -> list[bytes]:
    """``respond_sync`` as a WSGI app (the WSGI environ is the connect handler's)."""
    length = environ.get("CONTENT_LENGTH")
    status, content_type, out = respond_sync(
        environ["REQUEST_METHOD"],
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_ORIGIN"),
        lambda: _wsgi_origin(environ),
        int(length) if length and length.isdigit() else None,
        lambda limit: _wsgi_body(environ, limit),
        environ,
        new_event,
    )
    start_response(
        _STATUS_LINES[status], [("Content-Type", content_type), ("Content-Length", str(len(out)))]
    )
    return [out]


def environ_from(
    method: str,
    path: str,
    query: str,
    headers: Any,
    client: tuple[str, int],
    server: tuple[str, int],
    scheme: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """A WSGI-style environ for the connect handler; ``headers``: (name, value) str pairs."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "wsgi.url_scheme": scheme,
        **extra,
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ
