"""aiohttp's own server: ``python serve_aiohttp.py PORT`` (``BENCH_IMPL`` core, pyeio, plain)."""

from __future__ import annotations

import os
import sys

import minimal_eio
from aiohttp import WSMsgType, web


async def plain_echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type is WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def minimal_engineio(request: web.Request) -> web.Response:
    status, content_type, out = await minimal_eio.respond_async(
        request.method, request.raw_path.partition("?")[2], request.read
    )
    return web.Response(status=status, body=out, headers={"Content-Type": content_type})


def make_app() -> web.Application:
    app = web.Application()
    if os.environ.get("BENCH_IMPL") == "plain":
        app.router.add_get("/ws", plain_echo)
        app.router.add_route("*", "/engine.io/", minimal_engineio)
    else:
        from bench_app import make_async_server

        make_async_server("aiohttp").attach(app)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
