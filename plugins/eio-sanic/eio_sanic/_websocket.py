"""An accepted Sanic WebSocket, shaped like ``engineio_core.plugin.types.AsyncWebSocket``.

Sanic accepts a WebSocket inside an ordinary HTTP handler: its connection
protocol (``WebSocketProtocol``, used once ``app.enable_websocket()`` ran)
has a ``websocket_handshake(request)`` that answers 101 and returns the
socket. The route in :mod:`eio_sanic._attach` therefore serves both plain
HTTP and upgrade requests, and the server's own checks (origin, sid,
transport) run before any upgrade, so a refusal reaches the client as that
HTTP status. When Sanic runs under an ASGI server there is no such protocol:
:mod:`eio_sanic._asgi` speaks ASGI instead.

Sanic's socket has quirks this wrapper smooths over:

* ``recv()`` raises ``asyncio.CancelledError`` when the peer's close frame
  arrives, and waits forever if the TCP connection is lost without one; so
  each receive also watches the connection-lost future.
* Cancelling ``recv()`` corrupts its frame assembler, so a receive that
  times out leaves its ``recv()`` running for the next receive to pick up.
* The message size limit is enforced by the ``websockets`` protocol object
  while parsing frames (nothing oversize is buffered); it fails the
  connection with close code 1009, which ``receive`` reports as
  :class:`~engineio_core.plugin.types.MessageTooLarge`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sanic import Request as SanicRequest
from sanic.exceptions import RequestCancelled, SanicException
from sanic.server.websockets.impl import CLOSED

from eio_sanic._asgi import ASGIWebSocket
from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed

_MESSAGE_TOO_BIG = 1009
_ABNORMAL_CLOSURE = 1006


def _handshake(request: SanicRequest) -> Any:
    """The connection's ``websocket_handshake`` method, or None when it has none.

    It has none when WebSocket support is off (``app.enable_websocket()``
    was never called) and when Sanic runs as an ASGI application.
    """
    get_protocol = getattr(request.transport, "get_protocol", None)
    protocol = get_protocol() if get_protocol is not None else None
    return getattr(protocol, "websocket_handshake", None)


def asgi_websocket(request: SanicRequest) -> Any:
    """The ASGI transport of a WebSocket request when Sanic runs under an ASGI
    server, else None. Its ``receive``/``send`` are the ASGI callables."""
    if not request.app.asgi:
        return None
    transport: Any = request.transport
    scope = getattr(transport, "scope", None) or {}
    return transport if scope.get("type") == "websocket" else None


async def accept(request: SanicRequest, max_size: int) -> SanicWebSocket | ASGIWebSocket | None:
    """Accept the WebSocket this request asks for, on Sanic's server or under ASGI."""
    if request.app.asgi:
        transport = asgi_websocket(request)
        return None if transport is None else await ASGIWebSocket.accept(transport, max_size)
    return await SanicWebSocket.accept(request, max_size)


def can_accept(request: SanicRequest) -> bool:
    # Every ASGI server of note speaks WebSocket.
    return bool(request.app.asgi) or _handshake(request) is not None


def _set_limit(ws_proto: Any, max_size: int) -> None:
    # Per connection, so the app's WEBSOCKET_MAX_SIZE (other WebSocket routes)
    # stays as the user set it. websockets >= 14 calls it max_message_size.
    if hasattr(ws_proto, "max_message_size"):
        ws_proto.max_message_size = max_size
    else:
        ws_proto.max_size = max_size


def _discard(recv: asyncio.Future[Any]) -> None:
    if not recv.done():
        recv.cancel()
    elif not recv.cancelled():
        recv.exception()  # retrieved: asyncio logs no "exception was never retrieved"


class SanicWebSocket:
    __slots__ = ("_closed", "_lost", "_max_size", "_pending", "_reader", "_ws", "close_code")

    def __init__(self, ws: Any, max_size: int) -> None:
        self._ws = ws
        self._max_size = max_size
        self._closed = False
        self._pending: asyncio.Future[Any] | None = None
        self._reader: asyncio.Task[Any] | None = None  # waiting in _receive_direct
        self._lost = False  # the connection ended while it waited
        self.close_code: int | None = None

    @classmethod
    async def accept(cls, request: SanicRequest, max_size: int) -> SanicWebSocket | None:
        handshake = _handshake(request)
        if handshake is None:
            return None
        try:
            ws = await handshake(request)
        except (SanicException, RequestCancelled):
            # Not a valid handshake (websockets answered 4xx), or the client left.
            return None
        _set_limit(ws.ws_proto, max_size)
        return cls(ws, max_size)

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        if self._closed:
            return None
        if timeout is None and self._pending is None:
            return await self._receive_direct()
        return await self._receive_watched(timeout)

    async def _receive_direct(self) -> str | bytes | None:
        """The next message, from the frame assembler itself.

        Sanic's ``recv()`` starts a task and an ``asyncio.wait`` per message,
        and :meth:`_receive_watched` wraps it in another pair so a lost
        connection cannot leave it waiting forever. Here the read awaits the
        assembler that ``recv()`` would have started a task for, and the one
        watch is a callback on the connection-lost future: when it fires
        during the wait, it cancels this task, which ends the connection.
        """
        ws = self._ws
        assembler = getattr(ws, "assembler", None)
        lost = ws.connection_lost_waiter
        if assembler is None or lost is None or ws.recv_lock.locked():
            return await self._receive_watched(None)  # not the Sanic this was written for
        if lost.done() or ws.ws_proto.state is CLOSED:
            self._ended()
            return None
        task = self._reader = asyncio.current_task()
        lost.add_done_callback(self._on_lost)
        try:
            data: str | bytes = await assembler.get(None)
        except asyncio.CancelledError:
            if not self._lost:
                raise
            uncancel = getattr(task, "uncancel", None)  # 3.11+: the cancel is handled
            if uncancel is not None:
                uncancel()
            self._ended()
            return None
        finally:
            self._reader = None
            lost.remove_done_callback(self._on_lost)
        return await self._checked(data)

    def _on_lost(self, _: asyncio.Future[Any]) -> None:
        reader = self._reader
        if reader is not None:  # still waiting: a late callback does nothing
            self._lost = True
            reader.cancel()

    async def _receive_watched(self, timeout: float | None) -> str | bytes | None:
        pending = self._pending
        if pending is None:
            pending = self._pending = asyncio.ensure_future(self._ws.recv())
        waiting: set[asyncio.Future[Any]] = {pending}
        lost = self._ws.connection_lost_waiter
        if lost is not None:
            waiting.add(lost)
        done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._closed:  # closed by our own close() meanwhile
            return None
        if pending in done:
            self._pending = None
            if not pending.cancelled() and pending.exception() is None:
                data: str | bytes | None = pending.result()
                if data is not None:
                    return await self._checked(data)
            self._ended()
            return None
        if lost is not None and lost.done():
            self._ended()
            return None
        raise TimeoutError("no WebSocket message in time")

    async def _checked(self, data: str | bytes) -> str | bytes:
        # websockets enforces the limit already; this guards older versions.
        size = len(data)
        if isinstance(data, str) and size * 4 > self._max_size:
            size = len(data.encode())
        if size > self._max_size:
            await self.close(_MESSAGE_TOO_BIG)
            raise MessageTooLarge(f"message of {size} bytes over the limit of {self._max_size}")
        return data

    def _ended(self) -> None:
        """Mark the connection over; raise MessageTooLarge if that was why."""
        self._closed = True
        pending, self._pending = self._pending, None
        if pending is not None:  # a recv() the lost connection will never answer
            _discard(pending)
        proto = self._ws.ws_proto
        sent = proto.close_sent
        if sent is not None and sent.code == _MESSAGE_TOO_BIG:
            # websockets failed the connection for an oversize message.
            self.close_code = _MESSAGE_TOO_BIG
            raise MessageTooLarge(f"message over the limit of {self._max_size} bytes")
        received = proto.close_rcvd
        self.close_code = received.code if received is not None else _ABNORMAL_CLOSURE

    async def send(self, data: str | bytes) -> None:
        if self._closed:
            raise WebSocketClosed("WebSocket is closed")
        try:
            await self._ws.send(data)
        except (Exception, RequestCancelled) as exc:
            # WebsocketClosed, ServerError after the data phase, or the
            # transport is closing (RequestCancelled): the peer is gone.
            raise WebSocketClosed(str(exc) or "connection lost") from exc

    async def close(self, code: int = 1000) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            _discard(pending)
        if self._closed:
            return
        self._closed = True
        self.close_code = code
        # Already gone: nothing left to close.
        with contextlib.suppress(Exception, RequestCancelled):
            await self._ws.close(code)

    def response(self) -> None:
        return None
