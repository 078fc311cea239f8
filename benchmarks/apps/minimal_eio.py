"""The least a server can do to pass the handshake and long-polling scenarios: their plain ceiling.

The WebSocket scenarios have a plain WebSocket echo on each server as their ceiling;
this is the HTTP scenarios'. It has no library and none of the protocol beyond what
the load generator needs: a random sid kept in a dict, the open packet, a POST whose
message packets are queued back to the sender and whose close packet (``1``) drops
the sid, and a GET that takes the queue or waits for it. No heartbeat, no connect
or message handler and no environ for one, no validation of the query or the
payload, no CORS, no logging, no poll timeout: all things a real implementation
must do. It uses each framework's ordinary request API, as the Engine.IO modes do.
So an implementation on that API does at least this work: its rate cannot pass
this one's by more than a cheaper use of the framework could give (engineio-core's
glue is not always the framework's plainest path either), and the ratio of this
one's rate to python-engineio's is the ceiling of a cell.

Every plain benchmark app answers ``/engine.io/`` with it: ``respond_sync`` (WSGI
servers, thread or greenlet per request) and ``respond_async`` (asyncio servers) do
the work; each framework's app turns its request into their arguments.
"""

from __future__ import annotations

import asyncio
import os
import threading
from binascii import b2a_base64
from collections.abc import Awaitable, Callable
from typing import Any

_URLSAFE = bytes.maketrans(b"+/", b"-_")
_OPEN = (
    '0{"sid":"%s","upgrades":["websocket"],"pingInterval":25000,'
    '"pingTimeout":20000,"maxPayload":1000000}'
)
OPEN_TYPE = "text/plain; charset=UTF-8"
OK_TYPE = "text/html"
_BAD = (400, OK_TYPE, b"")


class _Session:
    __slots__ = ("queue", "wake")

    def __init__(self, wake: Any) -> None:
        self.queue: list[bytes] = []
        self.wake = wake  # a threading-style Event (sync), an asyncio future or None


_SESSIONS: dict[str, _Session] = {}


def _sid(query: str) -> str | None:
    for pair in query.split("&"):
        if pair.startswith("sid="):
            return pair[4:]
    return None


def _open(wake: Any) -> tuple[int, str, bytes]:
    sid = b2a_base64(os.urandom(15), newline=False).translate(_URLSAFE).decode()
    _SESSIONS[sid] = _Session(wake)
    return 200, OPEN_TYPE, (_OPEN % sid).encode()


def _post(sid: str, session: _Session, body: bytes) -> None:
    """Queue the body's messages back to the sender; a close packet ends the session."""
    for packet in body.split(b"\x1e"):
        if packet[:1] == b"4":
            session.queue.append(packet)
        elif packet == b"1":
            _SESSIONS.pop(sid, None)
            session.queue.append(b"6")  # a pending poll ends with a noop


# -- WSGI servers: a thread or a greenlet per request -----------------------------------

_lock = threading.Lock()


def respond_sync(
    method: str, query: str, body: bytes, new_event: Callable[[], Any] = threading.Event
) -> tuple[int, str, bytes]:
    """(status, content type, body) for one request; ``new_event``: an Event class
    with ``set``, ``clear`` and ``wait()`` that suits the server (threading's is
    green once eventlet or gevent has monkey-patched)."""
    sid = _sid(query)
    if sid is None:
        return _open(new_event()) if method == "GET" else _BAD
    session = _SESSIONS.get(sid)
    if session is None:
        return _BAD
    if method == "POST":
        with _lock:
            _post(sid, session, body)
        session.wake.set()
        return 200, OK_TYPE, b"ok"
    while True:
        with _lock:
            if session.queue:
                out = b"\x1e".join(session.queue)
                session.queue.clear()
                return 200, OPEN_TYPE, out
            session.wake.clear()
        session.wake.wait()


def wsgi_app(
    environ: dict[str, Any], start_response: Any, new_event: Callable[[], Any] = threading.Event
) -> list[bytes]:
    """``respond_sync`` as a WSGI app (gunicorn, eventlet.wsgi, gevent's pywsgi, uWSGI)."""
    method = environ["REQUEST_METHOD"]
    body = b""
    if method == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    status, content_type, out = respond_sync(
        method, environ.get("QUERY_STRING", ""), body, new_event
    )
    start_response(
        "200 OK" if status == 200 else "400 Bad Request",
        [("Content-Type", content_type), ("Content-Length", str(len(out)))],
    )
    return [out]


# -- asyncio servers --------------------------------------------------------------------


async def respond_async(
    method: str, query: str, read_body: Callable[[], Awaitable[bytes]]
) -> tuple[int, str, bytes]:
    """(status, content type, body) for one request; ``read_body()`` gives a POST's body."""
    sid = _sid(query)
    if sid is None:
        return _open(None) if method == "GET" else _BAD
    session = _SESSIONS.get(sid)
    if session is None:
        return _BAD
    if method == "POST":
        _post(sid, session, await read_body())
        waiter = session.wake
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return 200, OK_TYPE, b"ok"
    while not session.queue:
        session.wake = asyncio.get_running_loop().create_future()
        await session.wake
    out = b"\x1e".join(session.queue)
    session.queue.clear()
    return 200, OPEN_TYPE, out
