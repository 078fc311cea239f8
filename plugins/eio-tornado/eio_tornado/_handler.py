"""The tornado ``RequestHandler`` that hands every request to an ``AsyncServer``.

One class serves polling (any HTTP method: the server answers Node's errors,
not tornado's 405) and WebSocket upgrades. For an upgrade the server decides
first (origin, sid, the ``connect`` handler); only when it accepts does the
handler let tornado complete the handshake, so a refused WebSocket gets the
server's HTTP status and JSON body.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import tornado.web
from tornado.http1connection import HTTP1Connection
from tornado.websocket import WebSocketHandler, WebSocketProtocol13

from eio_tornado._translate import serve_plain_polling
from eio_tornado._websocket import ClosingProtocol, TornadoWebSocket

#: The methods served by a handler method; prepare() answers the others.
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class _EveryMethod(tuple[str, ...]):
    """``SUPPORTED_METHODS`` containing every method, so none gets tornado's 405."""

    __slots__ = ()

    def __contains__(self, method: object) -> bool:
        return True


@tornado.web.stream_request_body
class EngineIOHandler(WebSocketHandler):
    """Serves ``engineio_server``; :func:`handler_for` makes a subclass bound to one."""

    engineio_server: Any = None
    #: Whether to offer requests to the server's short path for plain polls (not
    #: if its handle_request was replaced: that must see every request).
    eio_plain_polling = False
    SUPPORTED_METHODS = _EveryMethod(WebSocketHandler.SUPPORTED_METHODS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._eio_body = bytearray()
        # Keep at most what the server reads: it asks for max_http_buffer_size + 1.
        self._eio_body_cap = self.engineio_server.max_http_buffer_size + 1
        self._eio_ws: TornadoWebSocket | None = None
        self._eio_ws_task: asyncio.Future[None] | None = None
        self._eio_max_message_size: int | None = None
        self._eio_opened: asyncio.Future[None] | None = None
        #: True when tornado answered the request itself (a handshake it refused).
        self.eio_answered = False

    # -- dispatch ------------------------------------------------------------------

    async def prepare(self) -> None:
        # tornado calls the handler method named like the request method, and
        # SUPPORTED_METHODS lets every method through: answer any other method
        # here, and stop (Finish), so that a request line "FINISH /engine.io/"
        # never calls self.finish(). The server reads no body for them.
        if self.request.method not in _METHODS or self._eio_declares_too_much():
            await self._eio_serve()
            raise tornado.web.Finish()

    def _eio_declares_too_much(self) -> bool:
        """A Content-Length over the limit is refused (413) before any of it is read;
        otherwise tornado would take in the whole body first (up to its own 100 MB)."""
        try:
            declared = int(self.request.headers.get("Content-Length", ""))
        except ValueError:
            return False
        return bool(declared >= self._eio_body_cap)

    async def get(self, *args: Any, **kwargs: Any) -> None:
        self.open_args = args
        self.open_kwargs = kwargs
        await self._eio_serve()

    # tornado calls these once the body is in (stream_request_body).
    async def post(self, *args: Any, **kwargs: Any) -> None:
        await self._eio_serve()

    put = patch = delete = head = options = post

    async def _eio_serve(self) -> None:
        try:
            # A long-polling client's polls and POSTs on the short path; the rest
            # (and what it declines) through handle_request.
            if not (
                self.eio_plain_polling and await serve_plain_polling(self.engineio_server, self)
            ):
                await self.engineio_server.handle_request(self)
        finally:
            ws, task = self._eio_ws, self._eio_ws_task
            if ws is not None:
                await ws.close()  # already closed by the server: a no-op
            if task is not None:
                # tornado's frame loop ends once the closing handshake is done.
                await task

    # -- request body (stream_request_body) -----------------------------------------

    def data_received(self, chunk: bytes) -> None:
        room = self._eio_body_cap - len(self._eio_body)
        if room > 0:
            self._eio_body += chunk[:room]

    def eio_body(self, limit: int) -> bytes:
        """At most ``limit`` bytes of the request body."""
        return bytes(self._eio_body[:limit])

    # -- origin and XSRF: the Engine.IO server decides -----------------------------------

    def check_origin(self, origin: str) -> bool:
        # The server has checked the Origin against cors_allowed_origins
        # before a WebSocket is accepted.
        return True

    def check_trusted_origin(self, origin: str) -> bool:
        # tornado's cross_origin_protection setting: every request reaches the
        # server, which applies cors_allowed_origins.
        return True

    def check_xsrf_cookie(self) -> None:
        # The xsrf_cookies setting: Engine.IO clients send no XSRF token; the
        # server's origin policy protects these endpoints.
        return None

    def compute_etag(self) -> str | None:
        # No ETag (and no 304): two polls with the same packets are not one resource.
        return None

    # -- WebSocket -------------------------------------------------------------------

    @property
    def max_message_size(self) -> int:
        if self._eio_max_message_size is not None:
            return self._eio_max_message_size
        size: int = self.engineio_server.max_http_buffer_size
        return size

    def get_websocket_protocol(self) -> ClosingProtocol | None:
        # tornado's choice (None for an unsupported Sec-WebSocket-Version),
        # rebuilt as our subclass with the same parameters.
        protocol = super().get_websocket_protocol()
        if not isinstance(protocol, WebSocketProtocol13):
            return None
        return ClosingProtocol(self, False, protocol.params)

    async def eio_accept_websocket(self, max_message_size: int) -> TornadoWebSocket | None:
        """Complete the handshake the server accepted; None if tornado refused it.

        tornado's ``accept_connection`` runs until the connection closes, so
        it runs as a task; this returns once ``open`` was called (accepted)
        or the task ended (tornado answered the request with an error).
        """
        if self.request.method != "GET":
            self._eio_refuse(400, "A WebSocket handshake is a GET request.")
            return None
        connection = self.request.headers.get("Connection", "")
        if "upgrade" not in (token.strip().lower() for token in connection.split(",")):
            self._eio_refuse(400, '"Connection" must be "Upgrade".')
            return None
        # tornado measures a message in bytes, as the server does: a larger
        # one makes tornado close with 1009 before buffering it.
        self._eio_max_message_size = max_message_size
        protocol = self.get_websocket_protocol()
        if protocol is None:
            self.set_header("Sec-WebSocket-Version", "13")
            self._eio_refuse(426, "Upgrade Required")
            return None
        ws = self._eio_ws = TornadoWebSocket(self, protocol, max_message_size)
        opened = self._eio_opened = asyncio.get_running_loop().create_future()
        self.ws_connection = protocol
        task = self._eio_ws_task = asyncio.ensure_future(protocol.accept_connection(self))
        await asyncio.wait({task, opened}, return_when=asyncio.FIRST_COMPLETED)
        self._eio_opened = None  # not kept for the session's lifetime
        if not opened.done():
            self.eio_answered = True
            self._eio_ws = None
            return None
        return ws

    def _eio_refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.eio_answered = True
        self.eio_finish(message.encode(), close_connection=True)

    def eio_finish(self, body: bytes, close_connection: bool = False) -> None:
        """Send the response; with ``close_connection``, close the connection after it.

        A refused WebSocket handshake closes its connection, as Node's
        engine.io and other servers do: the client will not reuse it.
        """
        # Not awaited, as tornado handlers usually do: a client that is gone is
        # no error (tornado marks that write's failure as seen).
        flushed = self.finish(body)
        connection = self.request.connection
        if close_connection and isinstance(connection, HTTP1Connection):
            flushed.add_done_callback(lambda _: connection.close())

    def open(self, *args: Any, **kwargs: Any) -> None:
        opened = self._eio_opened
        if opened is not None and not opened.done():
            opened.set_result(None)

    def on_message(self, message: str | bytes) -> None:
        if self._eio_ws is not None:
            self._eio_ws.feed(message)

    def on_connection_close(self) -> None:
        # WebSocketHandler's version skips RequestHandler's, which ends a
        # streamed body that will never complete (client gone mid-POST);
        # without it the request would wait forever.
        tornado.web.RequestHandler.on_connection_close(self)
        super().on_connection_close()

    def on_close(self) -> None:
        # Also called when a polling client goes away: no socket then.
        if self._eio_ws is not None:
            self._eio_ws.feed_close(self.close_code)


def handler_for(engineio_server: Any) -> type[EngineIOHandler]:
    """A new :class:`EngineIOHandler` subclass bound to ``engineio_server``."""
    takes = getattr(engineio_server, "takes_plain_polling", None)
    bound = {"engineio_server": engineio_server, "eio_plain_polling": bool(takes and takes())}
    return type("EngineIOHandler", (EngineIOHandler,), bound)


def attach(app: tornado.web.Application, server: Any, path: str) -> None:
    """Route ``/<path>/`` (and ``/<path>``) of ``app`` to ``server``, before the app's own."""
    pattern = "/" + re.escape(path) + "/?" if path else "/"
    app.add_handlers(r".*", [(pattern, handler_for(server))])
