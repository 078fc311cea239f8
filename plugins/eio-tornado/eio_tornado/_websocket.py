"""tornado's callback WebSocket, shaped like ``engineio_core.plugin.types.AsyncWebSocket``.

tornado delivers frames by calling the handler's ``on_message`` and
``on_close``; the handler forwards them to :meth:`TornadoWebSocket.feed`, and
:meth:`TornadoWebSocket.receive` takes them from an inbox.

The message size limit is tornado's own (``max_message_size``, set to the
server's ``max_http_buffer_size``): tornado refuses a larger frame from its
header, before buffering it, and closes with 1009; :class:`ClosingProtocol`
remembers that close so ``receive`` can raise ``MessageTooLarge``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketProtocol13

from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.plugin.wsframes import encode_messages

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

    __slots__ = (
        "_closed", "_ended", "_handler", "_inbox", "_max_size", "_protocol", "_waiter",
        "close_code",
    )  # fmt: skip

    def __init__(self, handler: WebSocketHandler, protocol: ClosingProtocol, max_size: int) -> None:
        self._handler = handler
        self._protocol = protocol
        self._max_size = max_size
        # Messages tornado delivered, then _CLOSED; a list and one future to
        # wake the reader cost less per message than an asyncio.Queue.
        # (An empty list is ~60 bytes against ~600 for a deque: one per session.)
        self._inbox: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False  # we closed it, or a send found it gone
        self._ended = False  # receive() has seen the end
        self.close_code: int | None = None

    # -- fed by the handler's tornado callbacks ------------------------------------

    def feed(self, message: str | bytes) -> None:
        self._inbox.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def feed_close(self, code: int | None) -> None:
        self.close_code = code
        self.feed(_CLOSED)

    # -- AsyncWebSocket ----------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        messages = await self.receive_many(timeout, 1)
        return None if messages is None else messages[0]

    async def receive_many(
        self, timeout: float | None = None, most: int | None = None
    ) -> list[str | bytes] | None:
        """Every message tornado has delivered (at least one, waiting for it), or ``most``.

        One coroutine, not a wrapper around another: an idle session waits
        here, and each frame on that chain costs every session memory.
        """
        if self._ended or self._closed:
            return None
        inbox = self._inbox
        if not inbox:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                if timeout is None:
                    await waiter
                else:
                    await asyncio.wait_for(waiter, timeout)
            except asyncio.TimeoutError:
                raise TimeoutError("no WebSocket message in time") from None
            finally:
                self._waiter = None
        if inbox[0] is _CLOSED:
            self._ended = True
            if self._protocol.server_close_code == _MESSAGE_TOO_BIG:
                self.close_code = _MESSAGE_TOO_BIG
                raise MessageTooLarge(f"message over the limit of {self._max_size} bytes")
            return None
        # No size check here: tornado got max_size as its own limit, which it
        # measures the same way (payload bytes, text as UTF-8), and a larger
        # message ends in the close above.
        end = len(inbox) if inbox[-1] is not _CLOSED else len(inbox) - 1
        if most is not None:
            end = min(end, most)
        messages: list[str | bytes] = inbox[:end]
        del inbox[:end]
        return messages

    async def send(self, data: str | bytes) -> None:
        await self.send_many([data])

    async def send_many(self, messages: list[str | bytes]) -> None:
        """Send messages in order, as one write to tornado's stream.

        tornado's ``write_message`` makes a task per message to translate its
        errors, and writes each frame on its own; the frames of a batch are
        built here instead (uncompressed: the handler offers no
        permessage-deflate) and written together.
        """
        if self._closed:
            raise WebSocketClosed("WebSocket is closed")
        protocol = self._protocol
        if protocol.is_closing() or protocol.stream is None:
            self._closed = True
            raise WebSocketClosed("WebSocket is closed")
        if protocol._compressor is not None:  # never offered by EngineIOHandler
            for data in messages:
                await self._write_message(data)
            return
        payload = encode_messages(messages)
        try:
            flushed = protocol.stream.write(payload)
            if flushed.done():  # the usual case: the socket took it all at once
                flushed.result()
            else:
                # Shielded: a cancelled writer must not cancel tornado's own
                # future, whose callback would then log the CancelledError.
                await asyncio.shield(flushed)
        except StreamClosedError as exc:
            self._closed = True
            raise WebSocketClosed("WebSocket is closed") from exc

    async def _write_message(self, data: str | bytes) -> None:
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
