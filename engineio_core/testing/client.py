"""A small blocking Engine.IO peer for tests: HTTP via http.client, WebSocket via wsproto.

It speaks the wire format directly, so tests can send what real clients never
do. Every call is bounded by a timeout. For normal traffic prefer the real
JavaScript engine.io-client.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

__all__ = ["HTTPReply", "RawEngineIOClient", "RawWebSocket"]

TIMEOUT = 10.0


@dataclass
class HTTPReply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def packets(self) -> list[str]:
        """The v4 packets of a polling body."""
        return self.body.decode().split("\x1e")


class RawEngineIOClient:
    """Requests against ``http://host:port/<path>/``."""

    def __init__(self, host: str, port: int, path: str = "/engine.io/", eio: int = 4) -> None:
        self.host, self.port, self.path, self.eio = host, port, path, eio

    def query(
        self, sid: str | None = None, transport: str = "polling", **extra: str
    ) -> dict[str, str]:
        q = {"EIO": str(self.eio), "transport": transport, **extra}
        if sid:
            q["sid"] = sid
        return q

    def request(
        self,
        method: str,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = TIMEOUT,
    ) -> HTTPReply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            target = self.path + ("?" + urlencode(query) if query is not None else "")
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            return HTTPReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def handshake(self, **extra: str) -> tuple[str, dict[str, Any]]:
        reply = self.request("GET", self.query(**extra))
        if reply.status != 200:
            raise AssertionError(f"handshake answered {reply.status}: {reply.body!r}")
        first = reply.body.decode().split("\x1e")[0]
        if self.eio == 3:
            first = first.split(":", 1)[1]
        if not first.startswith("0"):
            raise AssertionError(f"handshake answered no open packet: {reply.body!r}")
        info: dict[str, Any] = json.loads(first[1:])
        return info["sid"], info

    def poll(self, sid: str, timeout: float = TIMEOUT, **extra: str) -> HTTPReply:
        return self.request("GET", self.query(sid, **extra), timeout=timeout)

    def post(self, sid: str, body: bytes, headers: dict[str, str] | None = None) -> HTTPReply:
        hdrs = {"Content-Type": "text/plain;charset=UTF-8", **(headers or {})}
        return self.request("POST", self.query(sid), body=body, headers=hdrs)

    def websocket(
        self, sid: str | None = None, headers: dict[str, str] | None = None
    ) -> RawWebSocket:
        target = self.path + "?" + urlencode(self.query(sid, transport="websocket"))
        return RawWebSocket(self.host, self.port, target, headers or {})


class RawWebSocket:
    """A blocking WebSocket client; ``status`` is 101 when the server accepted."""

    def __init__(self, host: str, port: int, target: str, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.conn = WSConnection(ConnectionType.CLIENT)
        self.closed = False
        self.close_code: int | None = None
        self.status = 0
        self.reject_body = b""
        self._reject_done = False
        self._pending: list[str | bytes] = []
        self._parts: list[Any] = []
        extra = [(k.encode(), v.encode()) for k, v in headers.items()]
        self.sock.sendall(
            self.conn.send(Request(host=f"{host}:{port}", target=target, extra_headers=extra))
        )
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
            with contextlib.suppress(OSError):
                while not self._reject_done:
                    data = self.sock.recv(65536)
                    self.conn.receive_data(data or None)
                    self._handle_events()
                    if not data:
                        break

    def send(self, data: str | bytes) -> None:
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self.sock.sendall(self.conn.send(event))

    def receive(self, timeout: float = TIMEOUT) -> str | bytes | None:
        """The next message, or None once the server closed the connection."""
        self.sock.settimeout(timeout)
        while True:
            if self._pending:
                return self._pending.pop(0)
            if self.closed:
                return None
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
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
                self._parts.append(event.data)
                if event.message_finished:
                    if isinstance(event, TextMessage):
                        self._pending.append("".join(str(p) for p in self._parts))
                    else:
                        self._pending.append(b"".join(bytes(p) for p in self._parts))
                    self._parts = []
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                with contextlib.suppress(OSError):
                    self.sock.sendall(self.conn.send(event.response()))
                self.closed = True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if not self.closed:
                self.sock.sendall(self.conn.send(CloseConnection(code=1000)))
        self.sock.close()
