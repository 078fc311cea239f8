"""aiohttp's own server: ``python serve_aiohttp.py PORT`` (``BENCH_IMPL`` core, pyeio, plain)."""

from __future__ import annotations

import os
import sys
from typing import Any

import floor_eio
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


async def floor_engineio(request: web.Request) -> web.Response:
    query = request.raw_path.partition("?")[2]
    headers = request.headers

    def own_origin() -> str:
        return f"{request.scheme}://{headers.get('Host', '')}"

    async def read_body(limit: int) -> bytes:
        return await request.content.read(limit)

    def make_environ() -> dict[str, Any]:
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport else None
        sock = transport.get_extra_info("sockname") if transport else None
        return floor_eio.environ_from(
            request.method,
            request.path,
            query,
            headers.items(),
            (str(peer[0]), peer[1]) if peer else ("", 0),
            (str(sock[0]), sock[1]) if sock else ("", 0),
            request.scheme,
            {"aiohttp.request": request},
        )

    status, content_type, out = await floor_eio.respond_async(
        request.method,
        query,
        headers.get("Origin"),
        own_origin,
        request.content_length,
        read_body,
        make_environ,
    )
    return web.Response(status=status, body=out, headers={"Content-Type": content_type})


def make_app() -> web.Application:
    app = web.Application()
    if os.environ.get("BENCH_IMPL") == "plain":
        app.router.add_get("/ws", plain_echo)
        # Engine.IO over HTTP: minimal_eio, or floor_eio with BENCH_PLAIN_HTTP=floor.
        floor = os.environ.get("BENCH_PLAIN_HTTP") == "floor"
        app.router.add_route("*", "/engine.io/", floor_engineio if floor else minimal_engineio)
    else:
        from bench_app import make_async_server

        make_async_server("aiohttp").attach(app)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
