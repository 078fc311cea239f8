"""The least a server can do to pass the handshake scenario: its plain ceiling.

The WebSocket scenarios have a plain WebSocket echo on each server as their ceiling;
this is the handshake scenario's. It has no library and none of the protocol beyond
what the load generator checks: a random sid kept in a dict, the open packet, and a
POST whose close packet (``1``) drops the sid. No heartbeat, no connect handler and
no environ for it, no validation of the query or the body, no CORS, no logging: all
things a real implementation must do. So no implementation's handshakes/s can pass
this one's on the same server, and its ratio to python-engineio's is the most any
implementation could show there.

Every plain benchmark app answers ``/engine.io/`` with it: ``respond`` does the work,
each framework's app turns the request into its three arguments.
"""

from __future__ import annotations

import os
from binascii import b2a_base64
from typing import Any

_SESSIONS: dict[str, bool] = {}
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_OPEN = (
    '0{"sid":"%s","upgrades":["websocket"],"pingInterval":25000,'
    '"pingTimeout":20000,"maxPayload":1000000}'
)
OPEN_TYPE = "text/plain; charset=UTF-8"
OK_TYPE = "text/html"


def _sid(query: str) -> str | None:
    for pair in query.split("&"):
        if pair.startswith("sid="):
            return pair[4:]
    return None


def respond(method: str, query: str, body: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) for one request to ``/engine.io/``."""
    sid = _sid(query)
    if sid is None:
        if method != "GET":
            return 400, OK_TYPE, b""
        sid = b2a_base64(os.urandom(15), newline=False).translate(_URLSAFE).decode()
        _SESSIONS[sid] = True
        return 200, OPEN_TYPE, (_OPEN % sid).encode()
    if method == "POST" and sid in _SESSIONS:
        if body == b"1":
            _SESSIONS.pop(sid, None)
        return 200, OK_TYPE, b"ok"
    return 400, OK_TYPE, b""


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """``respond`` as a WSGI app (gunicorn, eventlet.wsgi, gevent's pywsgi, uWSGI)."""
    method = environ["REQUEST_METHOD"]
    body = b""
    if method == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    status, content_type, out = respond(method, environ.get("QUERY_STRING", ""), body)
    start_response(
        "200 OK" if status == 200 else "400 Bad Request",
        [("Content-Type", content_type), ("Content-Length", str(len(out)))],
    )
    return [out]
