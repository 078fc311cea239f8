"""Sanic's own server: ``python serve_sanic.py PORT`` (``BENCH_IMPL`` core, pyeio, plain)."""

from __future__ import annotations

import os
import sys
from typing import Any

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

        status, content_type, out = await minimal_eio.respond_async(
            request.method, request.query_string, read_body
        )
        return HTTPResponse(out, status=status, content_type=content_type)

else:
    from bench_app import make_async_server

    make_async_server("sanic").attach(app)


if __name__ == "__main__":
    app.run(
        host="127.0.0.1", port=int(sys.argv[1]), single_process=True, motd=False, access_log=False
    )
