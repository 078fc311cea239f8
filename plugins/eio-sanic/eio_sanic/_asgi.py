"""Sanic run as an ASGI application: WebSockets over the raw ASGI messages.

Sanic's own ASGI WebSocket object can neither send a close code nor refuse a
handshake with an HTTP status, so in that case this module speaks ASGI
directly, through the transport Sanic gives the request (``receive`` and
``send`` are the ASGI server's callables).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.protocol.http import Response

_MESSAGE_TOO_BIG = 1009
_POLICY_VIOLATION = 1008


class ASGIWebSocket:
    __slots__ = ("_closed", "_max_size", "_receive", "_send", "close_code")

    def __init__(self, transport: Any, max_size: int) -> None:
        self._receive = transport.receive
        self._send = transport.send
        self._max_size = max_size
        self._closed = False
        self.close_code: int | None = None

    @classmethod
    async def accept(cls, transport: Any, max_size: int) -> ASGIWebSocket | None:
        message = await transport.receive()
        if message["type"] != "websocket.connect":
            return None
        await transport.send({"type": "websocket.accept"})
        return cls(transport, max_size)

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        if self._closed:
            return None
        try:
            message = await asyncio.wait_for(self._receive(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError("no WebSocket message in time") from None
        if message["type"] != "websocket.receive":  # websocket.disconnect
            self._closed = True
            self.close_code = message.get("code")
            return None
        data: str | bytes | None = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        size = len(data)
        if isinstance(data, str) and size * 4 > self._max_size:
            size = len(data.encode())
        if size > self._max_size:
            await self.close(_MESSAGE_TOO_BIG)
            raise MessageTooLarge(f"message of {size} bytes over the limit of {self._max_size}")
        return data

    async def send(self, data: str | bytes) -> None:
        if self._closed:
            raise WebSocketClosed("WebSocket is closed")
        message = {"type": "websocket.send", "text" if isinstance(data, str) else "bytes": data}
        try:
            await self._send(message)
        except Exception as exc:  # each ASGI server raises its own "disconnected" error
            self._closed = True
            raise WebSocketClosed(str(exc)) from exc

    async def close(self, code: int = 1000) -> None:
        if self._closed:
            return
        self._closed = True
        self.close_code = code
        # Already gone (each server raises its own error): nothing left to close.
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": code})

    def response(self) -> None:
        return None


async def deny(transport: Any, response: Response) -> None:
    """Refuse a WebSocket with the server's HTTP response where the ASGI server
    allows it (the "websocket.http.response" extension), else close it."""
    message = await transport.receive()
    if message["type"] != "websocket.connect":
        return
    # The client may be gone already: then there is nobody left to tell.
    with contextlib.suppress(Exception):
        if "websocket.http.response" in transport.scope.get("extensions", {}):
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
            headers.append((b"content-length", str(len(response.body)).encode()))
            await transport.send(
                {
                    "type": "websocket.http.response.start",
                    "status": response.status,
                    "headers": headers,
                }
            )
            await transport.send({"type": "websocket.http.response.body", "body": response.body})
        else:
            await transport.send({"type": "websocket.close", "code": _POLICY_VIOLATION})
