"""A raw Engine.IO peer for edge cases the real client never produces.

HTTP through ``http.client`` and WebSocket through wsproto over a plain
socket; every call is bounded by a timeout. Use ``tests/jsclient.py`` (the
real engine.io-client) for normal traffic.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

TIMEOUT = 10.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class RawClient:
    def __init__(self, url: str, path: str = "/engine.io/", eio: int = 4) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = path
        self.eio = eio

    def request(
        self,
        method: str,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = TIMEOUT,
    ) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            target = self.path + ("?" + urlencode(query) if query is not None else "")
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def query(
        self, sid: str | None = None, transport: str = "polling", **extra: str
    ) -> dict[str, str]:
        q = {"EIO": str(self.eio), "transport": transport, **extra}
        if sid:
            q["sid"] = sid
        return q

    def handshake(self, **extra: str) -> tuple[str, dict[str, Any]]:
        reply = self.request("GET", self.query(**extra))
        assert reply.status == 200, (reply.status, reply.body)
        first = reply.text.split("\x1e")[0]
        if self.eio == 3:
            first = first.split(":", 1)[1]
        assert first.startswith("0"), reply.text
        info = json.loads(first[1:])
        return info["sid"], info

    def poll(self, sid: str, timeout: float = TIMEOUT, **extra: str) -> Reply:
        return self.request("GET", self.query(sid, **extra), timeout=timeout)

    def post(self, sid: str, body: bytes, headers: dict[str, str] | None = None) -> Reply:
        hdrs = {"Content-Type": "text/plain;charset=UTF-8", **(headers or {})}
        return self.request("POST", self.query(sid), body=body, headers=hdrs)

    def websocket(
        self, sid: str | None = None, headers: dict[str, str] | None = None
    ) -> RawWebSocket:
        q = self.query(sid, transport="websocket")
        return RawWebSocket(self.host, self.port, self.path + "?" + urlencode(q), headers or {})


class RawWebSocket:
    """A blocking WebSocket client; ``status`` is 101 when accepted."""

    def __init__(self, host: str, port: int, target: str, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.conn = WSConnection(ConnectionType.CLIENT)
        self.closed = False
        self.close_code: int | None = None
        self._pending: list[str | bytes] = []
        extra = [(k.encode(), v.encode()) for k, v in headers.items()]
        self.sock.sendall(
            self.conn.send(Request(host=f"{host}:{port}", target=target, extra_headers=extra))
        )
        self.status = 0
        self.reject_body = b""
        self._reject_done = False
        self._buffer: list[str | bytes] = []
        while not self.status:
            data = self.sock.recv(65536)
            self.conn.receive_data(data or None)
            self._handle_events()
            if not data and not self.status:
                raise ConnectionError("server closed during the WebSocket handshake")
        if self.status != 101:
            # Read the refusal's body to its end (a kept-alive connection stays
            # open after it), or until the server closes.
            self.sock.settimeout(2)
            try:
                while not self._reject_done:
                    data = self.sock.recv(65536)
                    self.conn.receive_data(data or None)
                    self._handle_events()
                    if not data:
                        break
            except OSError:
                pass

    def send(self, data: str | bytes) -> None:
        self.sock.sendall(self.conn.send(Message(data=data)))

    def receive(self, timeout: float = TIMEOUT) -> str | bytes | None:
        """The next message, or None once the server closed the connection."""
        self.sock.settimeout(timeout)
        while True:
            if self._pending:
                return self._pending.pop(0)
            if self.closed:
                return None
            data = self.sock.recv(65536)
            if not data:
                self.closed = True
                return None
            self.conn.receive_data(data)
            self._handle_events()

    def _handle_events(self) -> None:
        for event in self.conn.events():
            if isinstance(event, AcceptConnection):
                self.status = 101
            elif isinstance(event, RejectConnection):
                self.status = event.status_code
                self.closed = True
                self._reject_done = not event.has_body
            elif isinstance(event, RejectData):
                self.reject_body += event.data
                self._reject_done = event.body_finished
            elif isinstance(event, (TextMessage, BytesMessage)):
                self._buffer.append(event.data)
                if event.message_finished:
                    if isinstance(event, TextMessage):
                        self._pending.append("".join(str(part) for part in self._buffer))
                    else:
                        self._pending.append(b"".join(bytes(part) for part in self._buffer))
                    self._buffer = []
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                with contextlib.suppress(OSError):
                    self.sock.sendall(self.conn.send(event.response()))
                self.closed = True

    def close(self) -> None:
        try:
            if not self.closed:
                self.sock.sendall(self.conn.send(CloseConnection(code=1000)))
        except Exception:
            pass
        self.sock.close()
