"""A plain WebSocket echo (no Engine.IO) for WSGI servers that lend the raw socket.

The ceiling for the ``threading`` mode under gunicorn's gthread worker: the
request's thread speaks WebSocket with wsproto on ``gunicorn.socket`` and echoes
every message, with nothing else on top.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import floor_eio
import minimal_eio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)


def _handshake(environ: dict[str, Any]) -> bytes:
    lines = ["GET / HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            lines.append(f"{key[5:].replace('_', '-')}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


#: Engine.IO over HTTP: minimal_eio, or floor_eio with BENCH_PLAIN_HTTP=floor (run.py --plain-http).
_HTTP_APP = (
    floor_eio.wsgi_app if os.environ.get("BENCH_PLAIN_HTTP") == "floor" else minimal_eio.wsgi_app
)


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    sock: socket.socket | None = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if sock is None or environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        return _HTTP_APP(environ, start_response)
    conn = WSConnection(ConnectionType.SERVER)
    conn.receive_data(_handshake(environ))
    for event in conn.events():
        if isinstance(event, Request):
            sock.sendall(conn.send(AcceptConnection()))
    sock.setblocking(True)
    text: list[str] = []
    binary: list[bytes] = []
    running = True
    while running:
        data = sock.recv(65536)
        conn.receive_data(data or None)
        out = bytearray()
        for event in conn.events():
            if isinstance(event, TextMessage):
                text.append(event.data)
                if event.message_finished:
                    out += conn.send(TextMessage(data="".join(text)))
                    text.clear()
            elif isinstance(event, BytesMessage):
                binary.append(bytes(event.data))
                if event.message_finished:
                    out += conn.send(BytesMessage(data=b"".join(binary)))
                    binary.clear()
            elif isinstance(event, Ping):
                out += conn.send(event.response())
            elif isinstance(event, CloseConnection):
                if conn.state.name == "REMOTE_CLOSING":
                    out += conn.send(event.response())
                running = False
        if out:
            sock.sendall(out)
        if not data:
            running = False
    raise StopIteration  # gunicorn: the connection is finished, write nothing
