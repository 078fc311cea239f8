"""Byte-exact HTTP/1.1 requests for hostile-input tests.

``http.client`` refuses to send much of what an attacker sends (CR/LF in a
header, a body shorter than its Content-Length, half a request), so requests
here are written to the socket byte for byte and only the response is parsed,
by ``http.client.HTTPResponse``. Every read is bounded by a timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

HOST = "127.0.0.1"
TIMEOUT = 10.0


@dataclass
class RawReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


def build_request(
    method: str,
    target: str,
    port: int,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    content_length: int | str | None = None,
    host: bool = True,
) -> bytes:
    """The bytes of one request with ``Connection: close``.

    ``content_length`` defaults to ``len(body)`` for a non-empty body; pass a
    wrong value (or a string) to lie about it. Header values are sent as they
    are (latin-1), CR/LF included.
    """
    lines = [f"{method} {target} HTTP/1.1"]
    if host:
        lines.append(f"Host: {HOST}:{port}")
    names = set()
    for name, value in headers:
        lines.append(f"{name}: {value}")
        names.add(name.lower())
    if "connection" not in names:
        lines.append("Connection: close")
    if content_length is None and body and "transfer-encoding" not in names:
        content_length = len(body)
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body


def read_reply(sock: socket.socket, method: str = "GET") -> RawReply:
    response = http.client.HTTPResponse(sock, method=method)
    try:
        response.begin()
        body = response.read()
    finally:
        response.close()
    return RawReply(response.status, list(response.getheaders()), body)


def exchange(port: int, data: bytes, method: str = "GET", timeout: float = TIMEOUT) -> RawReply:
    """Send ``data`` on a new connection and read one response."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_reply(sock, method)


class StalledRequest:
    """A connection that sent part of a request and then says nothing.

    ``finish()`` closes the connection (the client gave up); use it as a
    context manager so a failing test never leaves it open.
    """

    def __init__(self, port: int, data: bytes) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        self.sock.sendall(data)
        self.opened = time.monotonic()

    def reply_within(self, timeout: float) -> RawReply | None:
        """The server's answer if it gives one within ``timeout`` s; None if it waits."""
        self.sock.settimeout(timeout)
        try:
            return read_reply(self.sock)
        except (TimeoutError, http.client.HTTPException, OSError):
            return None

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def __enter__(self) -> StalledRequest:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()
