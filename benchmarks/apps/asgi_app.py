"""ASGI app for uvicorn: ``BENCH_IMPL`` core, pyeio or plain (a raw ASGI WebSocket echo)."""

from __future__ import annotations

import os
from typing import Any

import minimal_eio


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


app: Any
if os.environ.get("BENCH_IMPL") == "plain":
    app = plain_echo
else:
    from bench_app import engineio, make_async_server

    app = engineio.ASGIApp(make_async_server("asgi"))
