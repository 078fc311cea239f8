"""A Sanic app for this plugin's tests: ``python sanic_app.py PORT``.

Echoes every message, refuses connections whose query has ``reject=1``,
records disconnect reasons and serves them with the open sessions (and
how many requests are still being handled in a task of their own) at
``GET /_state``; ``POST /_translate?limit=N`` answers, as JSON, the core
request the plugin built for it, the first N bytes of its body and what
Sanic's own properties say of the client and server. Options
for the server come from EIO_SANIC_TEST_OPTIONS (JSON), settings for Sanic
(its proxy settings, say) from EIO_SANIC_TEST_CONFIG (JSON); with
EIO_SANIC_TEST_TLS set (a directory holding fullchain.pem and privkey.pem) it
serves HTTPS. ``app`` also runs under an ASGI server: ``uvicorn sanic_app:app``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse

import engineio_core

options: dict[str, Any] = {
    "async_mode": "sanic",
    "ping_interval": 0.5,
    "ping_timeout": 0.5,
    "max_http_buffer_size": 1000,
    **json.loads(os.environ.get("EIO_SANIC_TEST_OPTIONS", "{}")),
}
eio = engineio_core.AsyncServer(**options)
disconnects: dict[str, str] = {}
environs: dict[str, dict[str, str]] = {}


@eio.on("connect")
def connect(sid: str, environ: dict[str, Any]) -> bool:
    environs[sid] = {k: v for k, v in environ.items() if isinstance(v, str)}
    environs[sid]["has_sanic_request"] = str(isinstance(environ.get("sanic.request"), Request))
    return "reject=1" not in environ["QUERY_STRING"]


@eio.on("message")
async def message(sid: str, data: Any) -> None:
    await eio.send(sid, data)


@eio.on("disconnect")
def disconnect(sid: str, reason: str) -> None:
    disconnects[sid] = str(reason)


app = Sanic("eio_sanic_tests")
app.config.update(json.loads(os.environ.get("EIO_SANIC_TEST_CONFIG", "{}")))
eio.attach(app)


@app.get("/_state")
async def state(request: Request) -> HTTPResponse:
    carrying_on = [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "_carry_on"]
    body = {
        "sessions": sorted(eio._sessions),
        "disconnects": disconnects,
        "environs": environs,
        "carrying_on": len(carrying_on),
    }
    return HTTPResponse(json.dumps(body), content_type="application/json")


@app.post("/_translate", stream=True)
async def translate(request: Request) -> HTTPResponse:
    core = eio._mode.translate_request((request,))
    body = await core.read_body(int(request.args.get("limit", "5")))
    await request.receive_body()  # the rest, so Sanic has nothing left to complain about
    summary = {
        "method": core.method,
        "path": core.path,
        "query": dict(core.query),
        "headers": dict(core.headers),
        "remote_addr": core.remote_addr,
        "scheme": core.scheme,
        "content_length": core.content_length,
        "body": body.decode(),
        "environ": {k: v for k, v in core.get_environ().items() if isinstance(v, str)},
        "sanic": _sanics_view(request),
    }
    return HTTPResponse(json.dumps(summary), content_type="application/json")


def _sanics_view(request: Request) -> dict[str, str]:
    """The client, scheme and server as Sanic's own properties give them."""
    try:
        server_name, server_port = request.server_name, str(request.server_port)
    except (ValueError, TypeError):
        server_name, server_port = "", ""
    return {
        "REMOTE_ADDR": request.client_ip,
        "wsgi.url_scheme": request.scheme,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
    }


if __name__ == "__main__":
    app.run(
        host="127.0.0.1",
        port=int(sys.argv[1]),
        single_process=True,
        motd=False,
        access_log=False,
        ssl=os.environ.get("EIO_SANIC_TEST_TLS") or None,
    )
