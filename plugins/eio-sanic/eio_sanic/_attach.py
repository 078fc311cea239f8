"""``AsyncServer.attach(app)``: the Engine.IO route on a Sanic application."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sanic import Request as SanicRequest
from sanic import Sanic
from sanic.constants import HTTP_METHODS

from eio_sanic._translate import BodyRead, current_body_read


class EngineIORoute:
    """The handler of ``/<path>/``: every HTTP method, and WebSocket upgrades.

    One HTTP route serves both, so the server checks an upgrade request
    (origin, sid, transport) before accepting it and a refusal is an HTTP
    response with the server's status; the accepted socket comes from
    Sanic's connection protocol (see :mod:`eio_sanic._websocket`).

    Sanic cancels a handler as soon as its client's TCP connection is gone.
    The server's work runs in its own task, shielded from that, so a
    WebSocket session still ends through the server (disconnect handler,
    reason "transport close") and a pending poll still runs its cleanup.
    The exception is a body read in progress: it would wait forever, so that
    task is cancelled with the handler (nothing has changed yet then).
    """

    #: Sanic's marker for handlers that may return None after an upgrade.
    is_websocket = True

    def __init__(self, server: Any, name: str) -> None:
        self.server = server
        self.__name__ = name
        self._detached: set[asyncio.Task[Any]] = set()

    async def __call__(self, request: SanicRequest) -> Any:
        body_read = BodyRead()
        token = current_body_read.set(body_read)
        try:
            task = asyncio.ensure_future(self.server.handle_request(request))
        finally:
            current_body_read.reset(token)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if body_read.active:
                task.cancel()
            else:
                self._detach(task)
            raise

    def _detach(self, task: asyncio.Task[Any]) -> None:
        # The loop keeps weak references only: hold the task until it is done.
        self._detached.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._detached.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.server.logger.error("request handling failed after the client left", exc_info=exc)


def attach(app: Sanic[Any, Any], server: Any, path: str) -> None:
    uri = f"/{path}/" if path else "/"
    name = "engineio_" + (re.sub(r"\W", "_", path) or "root")
    # WebSocketProtocol (with websocket_handshake) instead of HttpProtocol.
    app.enable_websocket()
    app.add_route(
        EngineIORoute(server, name),
        uri,
        methods=[str(method) for method in HTTP_METHODS],
        name=name,
        strict_slashes=False,
        # The server reads at most max_http_buffer_size + 1 bytes itself and
        # answers 413; a streaming route lifts Sanic's REQUEST_MAX_SIZE, which
        # would otherwise refuse big bodies first with its own 413 page.
        stream=True,
    )

    async def shut_down_engineio(app: Sanic[Any, Any]) -> None:
        # Every client gets a close packet ("server shutdown") before Sanic
        # starts closing connections.
        await server.shutdown()

    app.register_listener(shut_down_engineio, "before_server_stop")
    # That listener closes every session in order; the core's SIGTERM hook would
    # race Sanic's own stop (seen as a worker that sometimes never exits).
    server.handle_sigterm = False
