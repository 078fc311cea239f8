"""``ASGIApp``: Engine.IO, static files and another ASGI app behind one ASGI 3 app."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from eio_asgi._translate import serve_plain_polling
from engineio_core.static_files import resolve_static

Scope = dict[str, Any]
ASGIApplication = Callable[[Scope, Any, Any], Awaitable[None]]
Hook = Callable[[], Any] | None


async def _call(hook: Hook) -> None:
    if hook is not None:
        result = hook()
        if inspect.isawaitable(result):
            await result


class ASGIApp:
    """An ASGI application that serves an ``AsyncServer`` at ``/<engineio_path>/``.

    :param engineio_server: the :class:`~engineio_core.AsyncServer`.
    :param other_asgi_app: an ASGI app (FastAPI, Starlette, ...) for all other
        paths, and for the lifespan: its startup and shutdown still run.
    :param static_files: URL path -> file, dict or directory; see
        :mod:`engineio_core.static_files`.
    :param engineio_path: where Engine.IO lives; ``'engine.io'`` by default.
    :param on_startup: called (or awaited) at lifespan startup.
    :param on_shutdown: called (or awaited) at lifespan shutdown, after which
        the Engine.IO server is shut down (every client gets a close packet).
    """

    def __init__(
        self,
        engineio_server: Any,
        other_asgi_app: ASGIApplication | None = None,
        static_files: Mapping[str, Any] | None = None,
        engineio_path: str = "engine.io",
        on_startup: Hook = None,
        on_shutdown: Hook = None,
    ) -> None:
        self.engineio_server = engineio_server
        self.other_asgi_app = other_asgi_app
        self.static_files = dict(static_files or {})
        self.engineio_path = "/" + engineio_path.strip("/")
        self._engineio_prefix = self.engineio_path + "/"
        # A long-polling client's polls and POSTs take handle_polling_request,
        # unless handle_request was replaced: then everything goes through it.
        takes = getattr(engineio_server, "takes_plain_polling", None)
        self._plain_polling = takes is not None and takes()
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path = scope.get("path", "/")
        if path.startswith(self._engineio_prefix) or path == self.engineio_path:
            server = self.engineio_server
            # A long-polling client's polls and POSTs, on the short path; the rest
            # (and whatever that declines) through handle_request.
            if (
                kind == "http"
                and self._plain_polling
                and await serve_plain_polling(server, scope, receive, send)
            ):
                return
            await server.handle_request(scope, receive, send)
            return
        if kind == "http" and scope.get("method") in ("GET", "HEAD"):
            static = resolve_static(path, self.static_files)
            if static is not None:
                body = await asyncio.to_thread(Path(static.filename).read_bytes)
                await _send_http(send, 200, static.content_type, body, scope["method"] == "HEAD")
                return
        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
        elif kind == "http":
            await _send_http(send, 404, "text/plain", b"Not Found")
        elif kind == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1000})

    async def _startup(self) -> None:
        await _call(self.on_startup)

    async def _shutdown(self) -> None:
        await _call(self.on_shutdown)
        await self.engineio_server.shutdown()

    async def _lifespan(self, scope: Scope, receive: Any, send: Any) -> None:
        if self.other_asgi_app is not None:
            # Run ours around the wrapped app's own lifespan handling.
            async def chained_receive() -> dict[str, Any]:
                message: dict[str, Any] = await receive()
                if message["type"] == "lifespan.startup":
                    await self._startup()
                elif message["type"] == "lifespan.shutdown":
                    await self._shutdown()
                return message

            await self.other_asgi_app(scope, chained_receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self._shutdown()
                except Exception as exc:
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _send_http(
    send: Any, status: int, content_type: str, body: bytes, head: bool = False
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
