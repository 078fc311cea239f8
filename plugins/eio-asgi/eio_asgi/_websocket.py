"""An accepted ASGI WebSocket, shaped like ``engineio_core.plugin.types.AsyncWebSocket``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed


class ASGIWebSocket:
    __slots__ = (
        "_closed",
        "_max_size",
        "_protocol_codes",
        "_quarter_size",
        "_receive",
        "_send",
        "_send_failed",
        "close_code",
    )

    def __init__(self, receive: Any, send: Any, max_size: int) -> None:
        self._receive = receive
        self._send = send
        self._max_size = max_size
        self._quarter_size = max_size // 4
        self._closed = False
        # A send failed: the peer is gone, but what it sent before may still be
        # waiting in the server's receive queue, so receive() goes on until the
        # disconnect message.
        self._send_failed = False
        self.close_code: int | None = None
        # daphne (through autobahn) refuses application close codes other than
        # 1000 and 3000-4999 and then leaves the socket open; 1009 is one of them.
        sender = getattr(send, "func", send)
        self._protocol_codes = not getattr(sender, "__module__", "").startswith("daphne")

    @classmethod
    async def accept(
        cls, scope: dict[str, Any], receive: Any, send: Any, max_size: int
    ) -> ASGIWebSocket | None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return None
        await send({"type": "websocket.accept"})
        return cls(receive, send, max_size)

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        if self._closed:
            return None
        if timeout is None:
            message = await self._receive()
        else:
            try:
                message = await asyncio.wait_for(self._receive(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError("no WebSocket message in time") from None
        data = self._data(message)
        if data is not None and self._over_limit(data):
            await self._refuse(data)
        return data

    async def receive_many(self) -> list[str | bytes] | None:
        """The next message, as a list: an ASGI server hands them over one by one.

        Here so that the server's reader awaits this coroutine alone, with no
        wrapper of its own around :meth:`receive`, on every message."""
        if self._closed:
            return None
        message = await self._receive()
        if message["type"] != "websocket.receive":
            self._data(message)  # a disconnect, or nothing we take
            return None
        data: str | bytes | None = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        # Within a quarter of the limit, no message is over it: no call to check.
        if len(data) > self._quarter_size and self._over_limit(data):
            await self._refuse(data)
        return [data]

    def _data(self, message: dict[str, Any]) -> str | bytes | None:
        kind = message["type"]
        if kind == "websocket.receive":
            data: str | bytes | None = message.get("text")
            return (message.get("bytes") or b"") if data is None else data
        if kind == "websocket.disconnect":
            self._closed = True
            self.close_code = message.get("code")
        return None

    def _over_limit(self, data: str | bytes) -> bool:
        size = len(data)
        # A str of n characters is at most 4n bytes: encode only when that matters.
        return size > self._max_size or (
            isinstance(data, str)
            and size * 4 > self._max_size
            and len(data.encode()) > self._max_size
        )

    async def _refuse(self, data: str | bytes) -> None:
        size = len(data.encode()) if isinstance(data, str) else len(data)
        await self.close(1009)
        raise MessageTooLarge(f"message of {size} bytes over the limit of {self._max_size}")

    async def send(self, data: str | bytes) -> None:
        if self._closed or self._send_failed:
            raise WebSocketClosed("WebSocket is closed")
        message = {"type": "websocket.send", "text" if isinstance(data, str) else "bytes": data}
        try:
            await self._send(message)
        except Exception as exc:  # each server raises its own "disconnected" error
            self._send_failed = True
            raise WebSocketClosed(str(exc)) from exc

    async def close(self, code: int = 1000) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._protocol_codes and code != 1000 and not 3000 <= code <= 4999:
            code = 1000
        self.close_code = code
        # Already gone (each server raises its own error): nothing left to close.
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": code})

    def response(self) -> None:
        return None
