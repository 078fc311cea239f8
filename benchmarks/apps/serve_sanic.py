"""Sanic's own server: ``python serve_sanic.py PORT`` (``BENCH_IMPL`` core, pyeio, plain)."""

from __future__ import annotations

import os
import sys
from typing import Any

import floor_eio
import minimal_eio
from sanic import HTTPResponse, Request, Sanic

app = Sanic("bench")
app.config.WEBSOCKET_PING_INTERVAL = None  # Engine.IO has its own heartbeat
app.config.WEBSOCKET_PING_TIMEOUT = None

if os.environ.get("BENCH_IMPL") == "plain":

    @app.websocket("/ws")
    async def plain_echo(request: Request, ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    @app.route("/engine.io/", methods=["GET", "POST"])
    async def minimal_engineio(request: Request) -> HTTPResponse:
        async def read_body() -> bytes:
            return request.body

        if os.environ.get("BENCH_PLAIN_HTTP") == "floor":
            status, content_type, out = await _floor(request)
        else:
            status, content_type, out = await minimal_eio.respond_async(
                request.method, request.query_string, read_body
            )
        return HTTPResponse(out, status=status, content_type=content_type)

    async def _floor(request: Request) -> tuple[int, str, bytes]:
        headers = request.headers
        conn = request.conn_info

        def own_origin() -> str:
            return f"{'https' if conn and conn.ssl else 'http'}://{headers.get('host', '')}"

        async def read_body(limit: int) -> bytes:
            return bytes(request.body[:limit])  # Sanic has read it (a non-streaming route)

        def make_environ() -> dict[str, Any]:
            client = (conn.client_ip, conn.client_port) if conn else ("", 0)
            server = (conn.server, conn.server_port) if conn else ("", 0)
            scheme = "https" if conn and conn.ssl else "http"
            extra = {"sanic.request": request}
            return floor_eio.environ_from(
                request.method,
                request.path,
                request.query_string,
                headers.items(),
                client,
                server,
                scheme,
                extra,
            )

        length = headers.get("content-length")
        return await floor_eio.respond_async(
            request.method,
            request.query_string,
            headers.get("origin"),
            own_origin,
            int(length) if length and length.isdigit() else None,
            read_body,
            make_environ,
        )

else:
    from bench_app import make_async_server

    make_async_server("sanic").attach(app)


if __name__ == "__main__":
    app.run(
        host="127.0.0.1", port=int(sys.argv[1]), single_process=True, motd=False, access_log=False
    )
