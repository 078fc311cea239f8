"""ASGI app for uvicorn: ``BENCH_IMPL`` core, pyeio or plain (a raw ASGI WebSocket echo)."""

from __future__ import annotations

import os
from typing import Any

import floor_eio
import minimal_eio

#: Engine.IO over HTTP: minimal_eio, or floor_eio with BENCH_PLAIN_HTTP=floor (run.py --plain-http).
FLOOR = os.environ.get("BENCH_PLAIN_HTTP") == "floor"


async def plain_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":

        async def read_body() -> bytes:
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            return body

        if FLOOR:
            status, content_type, out = await _floor(scope, receive)
        else:
            status, content_type, out = await minimal_eio.respond_async(
                scope["method"], scope["query_string"].decode("latin-1"), read_body
            )
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(out)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def _floor(scope: dict[str, Any], receive: Any) -> tuple[int, str, bytes]:
    origin = length = None
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"content-length":
            length = int(value) if value.isdigit() else None

    def own_origin() -> str:
        host = next((v for n, v in scope["headers"] if n == b"host"), b"").decode("latin-1")
        return f"{scope.get('scheme', 'http')}://{host}"

    async def read_body(limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit or not message.get("more_body", False):
                break
        return b"".join(chunks)[:limit]

    def make_environ() -> dict[str, Any]:
        headers = ((n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"])
        return floor_eio.environ_from(
            scope["method"],
            scope["path"],
            scope["query_string"].decode("latin-1"),
            headers,
            scope.get("client") or ("", 0),
            scope.get("server") or ("", 0),
            scope.get("scheme", "http"),
            {"asgi.scope": scope},
        )

    return await floor_eio.respond_async(
        scope["method"],
        scope["query_string"].decode("latin-1"),
        origin,
        own_origin,
        length,
        read_body,
        make_environ,
    )


app: Any
if os.environ.get("BENCH_IMPL") == "plain":
    app = plain_echo
else:
    from bench_app import engineio, make_async_server

    app = engineio.ASGIApp(make_async_server("asgi"))
