"""tornado's callback WebSocket, shaped like ``engineio_core.plugin.types.AsyncWebSocket``.

tornado delivers frames by calling the handler's ``on_message`` and
``on_close``; the handler forwards them to :meth:`TornadoWebSocket.feed`, and
:meth:`TornadoWebSocket.receive` awaits them from a queue.

The message size limit is tornado's own (``max_message_size``, set to the
server's ``max_http_buffer_size``): tornado refuses a larger frame from its
header, before buffering it, and closes with 1009; :class:`ClosingProtocol`
remembers that close so ``receive`` can raise ``MessageTooLarge``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tornado.websocket import WebSocketClosedError, WebSocketProtocol13

from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed

if TYPE_CHECKING:
    from tornado.websocket import WebSocketHandler

#: Queued after the last message once tornado reports the connection closed.
_CLOSED: Any = object()
_MESSAGE_TOO_BIG = 1009


class ClosingProtocol(WebSocketProtocol13):
    """tornado's RFC 6455 protocol, remembering the code of a close it started.

    tornado closes with 1009 on its own when a frame exceeds
    ``max_message_size`` and then just reports the connection closed; this
    is how :class:`TornadoWebSocket` tells that apart from the peer leaving.
    """

    server_close_code: int | None = None

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if not self.server_terminated and not self.client_terminated:
            self.server_close_code = code
        super().close(code, reason)


class TornadoWebSocket:
    """An accepted WebSocket of an ``EngineIOHandler``."""

    __slots__ = ("_closed", "_ended", "_handler", "_max_size", "_protocol", "_queue", "close_code")

    def __init__(self, handler: WebSocketHandler, protocol: ClosingProtocol, max_size: int) -> None:
        self._handler = handler
        self._protocol = protocol
        self._max_size = max_size
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False  # we closed it, or a send found it gone
        self._ended = False  # receive() has seen the end
        self.close_code: int | None = None

    # -- fed by the handler's tornado callbacks ------------------------------------

    def feed(self, message: str | bytes) -> None:
        self._queue.put_nowait(message)

    def feed_close(self, code: int | None) -> None:
        self.close_code = code
        self._queue.put_nowait(_CLOSED)

    # -- AsyncWebSocket ----------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        if self._ended or self._closed:
            return None
        if timeout is None:
            data = await self._queue.get()
        else:
            try:
                data = await asyncio.wait_for(self._queue.get(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError("no WebSocket message in time") from None
        if data is _CLOSED:
            self._ended = True
            if self._protocol.server_close_code == _MESSAGE_TOO_BIG:
                self.close_code = _MESSAGE_TOO_BIG
                raise MessageTooLarge(f"message over the limit of {self._max_size} bytes")
            return None
        # No size check here: tornado got max_size as its own limit, which it
        # measures the same way (payload bytes, text as UTF-8), and a larger
        # message ends in the close above.
        message: str | bytes = data
        return message

    async def send(self, data: str | bytes) -> None:
        if self._closed:
            raise WebSocketClosed("WebSocket is closed")
        try:
            await self._handler.write_message(data, binary=isinstance(data, bytes))
        except WebSocketClosedError as exc:
            self._closed = True
            raise WebSocketClosed("WebSocket is closed") from exc

    async def close(self, code: int = 1000) -> None:
        if self._closed:
            return
        self._closed = True
        if self.close_code is None:
            self.close_code = code
        # A no-op once tornado has dropped the connection.
        self._handler.close(code)

    def response(self) -> None:
        return None
