"""An accepted aiohttp WebSocket, shaped like ``engineio_core.plugin.types.AsyncWebSocket``."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed

# aiohttp treats a receive timeout of 0 as "no timeout"; the core passes 0 when
# a deadline has just passed, and means "only what is already here".
_SHORTEST_TIMEOUT = 1e-6


class AiohttpWebSocket:
    __slots__ = ("_closing", "_ended", "_max_size", "_ws")

    def __init__(self, ws: web.WebSocketResponse, max_size: int, ended: bool = False) -> None:
        self._ws = ws
        self._max_size = max_size
        # True once receive has nothing more to give (the peer closed, or we did).
        self._ended = ended
        # Set once the first close() finished; later callers wait for it.
        self._closing: asyncio.Event | None = None

    @classmethod
    async def accept(cls, request: web.BaseRequest, max_size: int) -> AiohttpWebSocket | None:
        # aiohttp refuses a message of max_msg_size bytes or more; the core's limit is
        # the largest size allowed. Permessage-deflate stays off (Node's engine.io
        # default), so that limit on frames is the limit on messages.
        ws = web.WebSocketResponse(max_msg_size=max_size + 1, compress=False)
        if not ws.can_prepare(request).ok:
            return None  # not a valid WebSocket handshake: the core answers 400
        try:
            await ws.prepare(request)
        except OSError:
            # The client left during the handshake: a socket that is already over
            # lets the core end the session as "transport close".
            return cls(ws, max_size, ended=True)
        return cls(ws, max_size)

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        if self._ended:
            return None
        if timeout is not None:
            timeout = max(timeout, _SHORTEST_TIMEOUT)
        try:
            message = await self._ws.receive(timeout)
        except asyncio.TimeoutError:
            raise TimeoutError("no WebSocket message in time") from None
        kind = message.type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            data: str | bytes = message.data
            return data
        # CLOSE (aiohttp already answered it), CLOSING (our close() is under way in
        # another task), CLOSED or ERROR: nothing more will come.
        self._ended = True
        error = message.data
        if (
            kind is WSMsgType.ERROR
            and isinstance(error, WebSocketError)
            and error.code == WSCloseCode.MESSAGE_TOO_BIG
        ):
            # aiohttp's max_msg_size check has already closed the socket with 1009.
            raise MessageTooLarge(f"{error} (limit {self._max_size} bytes)")
        return None

    async def send(self, data: str | bytes) -> None:
        if self._ws.closed or not self._ws.prepared:
            raise WebSocketClosed("WebSocket is closed")
        try:
            if isinstance(data, str):
                await self._ws.send_str(data)
            else:
                await self._ws.send_bytes(data)
        except OSError as exc:  # aiohttp's ClientConnectionResetError among them
            raise WebSocketClosed(str(exc)) from exc

    async def close(self, code: int = 1000) -> None:
        self._ended = True
        if not self._ws.prepared:
            return  # the handshake itself failed: nothing to close
        if self._closing is not None:
            # Another task is closing: return once the handshake is over, so the
            # request handler never hands aiohttp a socket still being closed.
            await self._closing.wait()
            return
        self._closing = asyncio.Event()
        try:
            # aiohttp waits (up to WebSocketResponse's timeout) for the peer's close
            # frame and keeps most errors to itself; a transport already gone may
            # still surface as OSError or a write timeout.
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await self._ws.close(code=code)
        finally:
            self._closing.set()

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    def response(self) -> web.WebSocketResponse:
        return self._ws
