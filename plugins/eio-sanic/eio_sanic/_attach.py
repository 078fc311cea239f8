"""``AsyncServer.attach(app)``: the Engine.IO route on a Sanic application."""

from __future__ import annotations

import asyncio
import re
import types
from collections.abc import Coroutine, Generator
from typing import Any

from sanic import Request as SanicRequest
from sanic import Sanic
from sanic.constants import HTTP_METHODS

from eio_sanic._translate import reading_body, serve_plain_polling


class EngineIORoute:
    """The handler of ``/<path>/``: every HTTP method, and WebSocket upgrades.

    One HTTP route serves both, so the server checks an upgrade request
    (origin, sid, transport) before accepting it and a refusal is an HTTP
    response with the server's status; the accepted socket comes from
    Sanic's connection protocol (see :mod:`eio_sanic._websocket`).

    Sanic cancels a handler as soon as its client's TCP connection is gone.
    The server's work runs in its own task from its first wait on, shielded
    from that, so a WebSocket session still ends through the server
    (disconnect handler, reason "transport close") and a pending poll still
    runs its cleanup. The exception is a body read in progress: it would
    wait forever, so that task is cancelled with the handler (nothing has
    changed yet then).
    """

    #: Sanic's marker for handlers that may return None after an upgrade.
    is_websocket = True

    def __init__(self, server: Any, name: str) -> None:
        self.server = server
        self.__name__ = name
        self._detached: set[asyncio.Future[Any]] = set()
        # Not if handle_request was replaced: then it must see every request.
        takes = getattr(server, "takes_plain_polling", None)
        self._plain_polling = takes is not None and takes()

    async def __call__(self, request: SanicRequest) -> Any:
        if request.headers.get("upgrade", "").lower() == "websocket":
            # The socket's reader takes the task it runs in as the session's
            # (SanicWebSocket._receive_direct): a task of its own from the start.
            pending: asyncio.Future[Any] = asyncio.ensure_future(
                self.server.handle_request(request)
            )
        else:
            # Most requests end in their first step (a handshake, a POST, a poll
            # that finds packets): run it here, in Sanic's task, with nothing
            # around it. A task takes over only if the request has to wait.
            # A long-polling client's polls and POSTs go to the short path first
            # (which declines, in its first step and having read nothing, what
            # it does not serve).
            handling: Coroutine[Any, Any, Any] | None = None
            if self._plain_polling:
                handling = serve_plain_polling(self.server, request)
                try:
                    waited_on = handling.send(None)
                except StopIteration as done:
                    if done.value is not None:
                        return done.value
                    handling = None
            if handling is None:
                handling = self.server.handle_request(request)
                try:
                    waited_on = handling.send(None)
                except StopIteration as done:
                    return done.value
            # The task's first step is queued now, before any cancellation of this
            # handler can come (the loop runs callbacks in order): by the time a
            # cancel below reaches the task, it is in _from_wait and passes it on.
            pending = asyncio.ensure_future(_carry_on(handling, waited_on))
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            if request in reading_body:
                pending.cancel()
            elif not pending.done():
                self._detach(pending)
            raise

    def _detach(self, pending: asyncio.Future[Any]) -> None:
        # The loop keeps weak references only: hold the task until it is done.
        self._detached.add(pending)
        pending.add_done_callback(self._finished)

    def _finished(self, pending: asyncio.Future[Any]) -> None:
        self._detached.discard(pending)
        if not pending.cancelled() and pending.exception() is not None:
            self.server.logger.error(
                "request handling failed after the client left", exc_info=pending.exception()
            )


async def _carry_on(handling: Coroutine[Any, Any, Any], waited_on: Any) -> Any:
    """The rest of ``handling``, whose first step stopped at ``waited_on``."""
    return await _from_wait(handling, waited_on)


@types.coroutine
def _from_wait(handling: Coroutine[Any, Any, Any], waited_on: Any) -> Generator[Any, Any, Any]:
    # The task running this waits on what the coroutine's first step yielded
    # (still marked as a blocking future), then resumes the coroutine; a
    # cancellation or other exception thrown in meanwhile goes to the coroutine.
    while True:
        try:
            yield waited_on
        except BaseException as exc:
            try:
                waited_on = handling.throw(exc)
            except StopIteration as done:
                return done.value
            continue
        return (yield from handling.__await__())


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
